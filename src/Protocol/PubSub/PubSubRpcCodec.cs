using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;
using ToolNet.Protocol.Records;
using PublicKeyType = ToolNet.Protocol.Crypto.PublicKey;

namespace ToolNet.Protocol.PubSub;

/// <summary>
/// The pubsub wire format: each <see cref="PubSubRpc"/> is a protobuf prefixed by its length as an unsigned varint
/// (libp2p/specs <c>pubsub/README.md</c>, rpc.proto with the gossipsub control extensions). Pure: no I/O; every
/// length and count is checked against <see cref="PubSubRpcLimits"/> before anything is allocated for it.
/// </summary>
/// <remarks>
/// Hand-written over <see cref="ProtobufReader"/> for the same reasons as the identify codec: bounds must hold while
/// reading, strings must be strict UTF-8, and proto2 presence matters: a message's signature covers its marshalled
/// fields, so a field sent empty must stay present and one left out must stay absent.
/// </remarks>
public static class PubSubRpcCodec
{
    // RPC
    private const int SubscriptionsField = 1;
    private const int PublishField = 2;
    private const int ControlField = 3;

    // SubOpts
    private const int SubscribeField = 1;
    private const int SubscriptionTopicField = 2;

    // Message
    private const int FromField = 1;
    private const int DataField = 2;
    private const int SeqnoField = 3;
    private const int TopicField = 4;
    private const int SignatureField = 5;
    private const int KeyField = 6;

    // ControlMessage
    private const int IHaveField = 1;
    private const int IWantField = 2;
    private const int GraftField = 3;
    private const int PruneField = 4;
    private const int IDontWantField = 5;

    // ControlIHave, ControlGraft, ControlPrune: topicID = 1; ControlIHave: messageIDs = 2; ControlIWant and
    // ControlIDontWant: messageIDs = 1; ControlPrune: peers = 2, backoff = 3; PeerInfo: peerID = 1, signedPeerRecord = 2.
    private const int ControlTopicField = 1;
    private const int IHaveIdsField = 2;
    private const int IdsField = 1;
    private const int PrunePeersField = 2;
    private const int PruneBackoffField = 3;
    private const int PeerInfoIdField = 1;
    private const int PeerInfoRecordField = 2;

    /// <summary>The prefix of the bytes a message signature covers (pubsub/README.md "Message Signing").</summary>
    public static ReadOnlySpan<byte> SignaturePrefix => "libp2p-pubsub:"u8;

    /// <summary>Decodes one RPC body. Unknown fields are skipped.</summary>
    /// <exception cref="WireFormatException">Malformed protobuf, invalid UTF-8, or a bound of <paramref name="limits"/> exceeded.</exception>
    public static PubSubRpc Decode(ReadOnlySpan<byte> body, PubSubRpcLimits? limits = null)
    {
        limits ??= PubSubRpcLimits.Default;
        if (body.Length > limits.MaxRpcLength)
        {
            throw new WireFormatException($"pubsub RPC of {body.Length} bytes exceeds {limits.MaxRpcLength}");
        }

        var subscriptions = new List<SubscriptionChange>();
        var messages = new List<PubSubMessage>();
        ControlBuilder? control = null;
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case SubscriptionsField:
                    CheckCount(subscriptions.Count, limits.MaxSubscriptions, "subscriptions");
                    subscriptions.Add(DecodeSubscription(reader.ReadBytes(wireType), limits));
                    break;
                case PublishField:
                    CheckCount(messages.Count, limits.MaxMessages, "messages");
                    messages.Add(DecodeMessage(reader.ReadBytes(wireType), limits));
                    break;
                case ControlField:
                    // Repeated occurrences of an embedded message merge (protobuf encoding "Last One Wins" for
                    // messages concatenates their repeated fields).
                    control ??= new ControlBuilder(limits);
                    control.Add(reader.ReadBytes(wireType));
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new PubSubRpc { Subscriptions = subscriptions, Messages = messages, Control = control?.Build() };
    }

    /// <summary>Decodes a <c>Message</c> on its own (for example one taken from an RPC's bytes).</summary>
    /// <exception cref="WireFormatException">Malformed, without a topic, or over a bound.</exception>
    public static PubSubMessage DecodeMessage(ReadOnlySpan<byte> encoded, PubSubRpcLimits? limits = null)
    {
        limits ??= PubSubRpcLimits.Default;
        byte[]? from = null, data = null, seqno = null, signature = null, key = null;
        string? topic = null;
        var reader = new ProtobufReader(encoded);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case FromField:
                    from = ReadBounded(ref reader, wireType, PeerId.MaxLength, "message from");
                    break;
                case DataField:
                    data = reader.ReadBytes(wireType).ToArray();
                    break;
                case SeqnoField:
                    seqno = ReadBounded(ref reader, wireType, 64, "message seqno");
                    break;
                case TopicField:
                    if (topic is not null)
                    {
                        throw new WireFormatException("a message names more than one topic");
                    }

                    topic = reader.ReadString(wireType, limits.MaxTopicLength, "message topic");
                    break;
                case SignatureField:
                    signature = ReadBounded(ref reader, wireType, 1024, "message signature");
                    break;
                case KeyField:
                    key = ReadBounded(ref reader, wireType, PublicKeyType.MaxProtobufLength, "message key");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new PubSubMessage
        {
            From = from,
            Data = data,
            Seqno = seqno,
            Topic = topic ?? throw new WireFormatException("a message without a topic"),
            Signature = signature,
            Key = key,
        };
    }

    /// <summary>
    /// Reads one length-prefixed RPC from the start of <paramref name="buffer"/> and slices it off. Returns false,
    /// leaving the buffer as it was, while the prefix or body is incomplete. The prefix is checked against
    /// <see cref="PubSubRpcLimits.MaxRpcLength"/> as soon as it is complete, before the body is waited for.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryReadDelimited(ref ReadOnlySequence<byte> buffer, PubSubRpcLimits? limits, [NotNullWhen(true)] out PubSubRpc? rpc)
    {
        limits ??= PubSubRpcLimits.Default;
        return LengthPrefixedMessages.TryRead(ref buffer, limits.MaxRpcLength, body => Decode(body, limits), out rpc);
    }

    /// <summary>The encoded body length of <paramref name="rpc"/>.</summary>
    public static int GetEncodedLength(PubSubRpc rpc)
    {
        ArgumentNullException.ThrowIfNull(rpc);
        var length = 0;
        foreach (var subscription in rpc.Subscriptions)
        {
            length += ProtobufWriter.BytesFieldLength(SubscriptionsField, SubscriptionLength(subscription), omitEmpty: false);
        }

        foreach (var message in rpc.Messages)
        {
            length += ProtobufWriter.BytesFieldLength(PublishField, GetEncodedLength(message, withSignature: true), omitEmpty: false);
        }

        if (rpc.Control is not null)
        {
            length += ProtobufWriter.BytesFieldLength(ControlField, ControlLength(rpc.Control), omitEmpty: false);
        }

        return length;
    }

    /// <summary>Encodes the body into <paramref name="destination"/> (at least <see cref="GetEncodedLength(PubSubRpc)"/>
    /// bytes), fields in number order, absent fields omitted. Returns the bytes written.</summary>
    public static int Encode(PubSubRpc rpc, Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination[..GetEncodedLength(rpc)]);
        foreach (var subscription in rpc.Subscriptions)
        {
            writer.WriteLengthPrefix(SubscriptionsField, SubscriptionLength(subscription));
            writer.WriteVarintField(SubscribeField, subscription.Subscribe ? 1UL : 0UL, omitZero: false);
            writer.WriteStringField(SubscriptionTopicField, subscription.Topic);
        }

        foreach (var message in rpc.Messages)
        {
            writer.WriteLengthPrefix(PublishField, GetEncodedLength(message, withSignature: true));
            WriteMessage(ref writer, message, withSignature: true);
        }

        if (rpc.Control is { } control)
        {
            writer.WriteLengthPrefix(ControlField, ControlLength(control));
            WriteControl(ref writer, control);
        }

        return writer.Written;
    }

    /// <summary>Encodes the body into a new array.</summary>
    public static byte[] ToBytes(PubSubRpc rpc)
    {
        var bytes = new byte[GetEncodedLength(rpc)];
        Encode(rpc, bytes);
        return bytes;
    }

    /// <summary>Writes the length prefix and the body into <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The RPC is longer than <paramref name="maxLength"/>, which peers would refuse.</exception>
    public static void WriteDelimited(PubSubRpc rpc, IBufferWriter<byte> writer, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(rpc);
        if (length > maxLength)
        {
            throw new ArgumentException($"peers would refuse this pubsub RPC: it is {length} bytes, over {maxLength}", nameof(rpc));
        }

        var span = writer.GetSpan(Varint.MaxLength + length);
        var prefixLength = Varint.Write(span, (ulong)length);
        Encode(rpc, span[prefixLength..]);
        writer.Advance(prefixLength + length);
    }

    /// <summary>The encoded length of a <c>Message</c>, with or without its signature and key fields.</summary>
    public static int GetEncodedLength(PubSubMessage message, bool withSignature)
    {
        ArgumentNullException.ThrowIfNull(message);
        var length = OptionalBytesLength(FromField, message.From)
            + OptionalBytesLength(DataField, message.Data)
            + OptionalBytesLength(SeqnoField, message.Seqno)
            + ProtobufWriter.StringFieldLength(TopicField, message.Topic);
        return withSignature
            ? length + OptionalBytesLength(SignatureField, message.Signature) + OptionalBytesLength(KeyField, message.Key)
            : length;
    }

    /// <summary>
    /// The bytes a message signature covers: <c>"libp2p-pubsub:"</c> followed by the marshalled message without its
    /// <c>signature</c> and <c>key</c> fields (pubsub/README.md "Message Signing").
    /// </summary>
    public static byte[] GetSignedBytes(PubSubMessage message)
    {
        var prefix = SignaturePrefix;
        var bytes = new byte[prefix.Length + GetEncodedLength(message, withSignature: false)];
        prefix.CopyTo(bytes);
        var writer = new ProtobufWriter(bytes.AsSpan(prefix.Length));
        WriteMessage(ref writer, message, withSignature: false);
        return bytes;
    }

    private static SubscriptionChange DecodeSubscription(ReadOnlySpan<byte> encoded, PubSubRpcLimits limits)
    {
        var subscribe = false;
        string? topic = null;
        var reader = new ProtobufReader(encoded);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case SubscribeField:
                    subscribe = reader.ReadVarintField(wireType) != 0;
                    break;
                case SubscriptionTopicField:
                    topic = reader.ReadString(wireType, limits.MaxTopicLength, "subscription topic");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new SubscriptionChange(subscribe, topic ?? throw new WireFormatException("a subscription without a topic"));
    }

    private static int SubscriptionLength(SubscriptionChange subscription) =>
        ProtobufWriter.VarintFieldLength(SubscribeField, subscription.Subscribe ? 1UL : 0UL, omitZero: false)
        + ProtobufWriter.StringFieldLength(SubscriptionTopicField, subscription.Topic);

    private static void WriteMessage(ref ProtobufWriter writer, PubSubMessage message, bool withSignature)
    {
        WriteOptionalBytes(ref writer, FromField, message.From);
        WriteOptionalBytes(ref writer, DataField, message.Data);
        WriteOptionalBytes(ref writer, SeqnoField, message.Seqno);
        writer.WriteStringField(TopicField, message.Topic);
        if (withSignature)
        {
            WriteOptionalBytes(ref writer, SignatureField, message.Signature);
            WriteOptionalBytes(ref writer, KeyField, message.Key);
        }
    }

    private static int ControlLength(ControlMessage control)
    {
        var length = 0;
        foreach (var ihave in control.IHave)
        {
            length += ProtobufWriter.BytesFieldLength(IHaveField, IHaveLength(ihave), omitEmpty: false);
        }

        foreach (var iwant in control.IWant)
        {
            length += ProtobufWriter.BytesFieldLength(IWantField, IdsLength(IdsField, iwant.MessageIds), omitEmpty: false);
        }

        foreach (var graft in control.Graft)
        {
            length += ProtobufWriter.BytesFieldLength(GraftField, OptionalStringLength(ControlTopicField, graft.Topic), omitEmpty: false);
        }

        foreach (var prune in control.Prune)
        {
            length += ProtobufWriter.BytesFieldLength(PruneField, PruneLength(prune), omitEmpty: false);
        }

        foreach (var idontwant in control.IDontWant)
        {
            length += ProtobufWriter.BytesFieldLength(IDontWantField, IdsLength(IdsField, idontwant.MessageIds), omitEmpty: false);
        }

        return length;
    }

    private static void WriteControl(ref ProtobufWriter writer, ControlMessage control)
    {
        foreach (var ihave in control.IHave)
        {
            writer.WriteLengthPrefix(IHaveField, IHaveLength(ihave));
            WriteOptionalString(ref writer, ControlTopicField, ihave.Topic);
            WriteIds(ref writer, IHaveIdsField, ihave.MessageIds);
        }

        foreach (var iwant in control.IWant)
        {
            writer.WriteLengthPrefix(IWantField, IdsLength(IdsField, iwant.MessageIds));
            WriteIds(ref writer, IdsField, iwant.MessageIds);
        }

        foreach (var graft in control.Graft)
        {
            writer.WriteLengthPrefix(GraftField, OptionalStringLength(ControlTopicField, graft.Topic));
            WriteOptionalString(ref writer, ControlTopicField, graft.Topic);
        }

        foreach (var prune in control.Prune)
        {
            writer.WriteLengthPrefix(PruneField, PruneLength(prune));
            WriteOptionalString(ref writer, ControlTopicField, prune.Topic);
            foreach (var peer in prune.Peers)
            {
                writer.WriteLengthPrefix(PrunePeersField, PeerInfoLength(peer));
                WriteOptionalBytes(ref writer, PeerInfoIdField, peer.PeerId);
                WriteOptionalBytes(ref writer, PeerInfoRecordField, peer.SignedPeerRecord);
            }

            if (prune.BackoffSeconds is { } backoff)
            {
                writer.WriteVarintField(PruneBackoffField, backoff, omitZero: false);
            }
        }

        foreach (var idontwant in control.IDontWant)
        {
            writer.WriteLengthPrefix(IDontWantField, IdsLength(IdsField, idontwant.MessageIds));
            WriteIds(ref writer, IdsField, idontwant.MessageIds);
        }
    }

    private static int IHaveLength(ControlIHave ihave) => OptionalStringLength(ControlTopicField, ihave.Topic) + IdsLength(IHaveIdsField, ihave.MessageIds);

    private static int PruneLength(ControlPrune prune)
    {
        var length = OptionalStringLength(ControlTopicField, prune.Topic);
        foreach (var peer in prune.Peers)
        {
            length += ProtobufWriter.BytesFieldLength(PrunePeersField, PeerInfoLength(peer), omitEmpty: false);
        }

        return prune.BackoffSeconds is { } backoff ? length + ProtobufWriter.VarintFieldLength(PruneBackoffField, backoff, omitZero: false) : length;
    }

    private static int PeerInfoLength(PeerExchangeInfo peer) =>
        OptionalBytesLength(PeerInfoIdField, peer.PeerId) + OptionalBytesLength(PeerInfoRecordField, peer.SignedPeerRecord);

    private static int IdsLength(int field, IReadOnlyList<MessageId> ids)
    {
        var length = 0;
        foreach (var id in ids)
        {
            length += ProtobufWriter.BytesFieldLength(field, id.Length, omitEmpty: false);
        }

        return length;
    }

    private static void WriteIds(ref ProtobufWriter writer, int field, IReadOnlyList<MessageId> ids)
    {
        foreach (var id in ids)
        {
            writer.WriteBytesField(field, id.Bytes, omitEmpty: false);
        }
    }

    private static byte[] ReadBounded(ref ProtobufReader reader, int wireType, int maxLength, string what)
    {
        var bytes = reader.ReadBytes(wireType);
        return bytes.Length <= maxLength
            ? bytes.ToArray()
            : throw new WireFormatException($"{what} is {bytes.Length} bytes, over the {maxLength}-byte limit");
    }

    private static void CheckCount(int count, int max, string what)
    {
        if (count >= max)
        {
            throw new WireFormatException($"pubsub RPC has more than {max} {what}");
        }
    }

    private static int OptionalBytesLength(int field, byte[]? value) =>
        value is null ? 0 : ProtobufWriter.BytesFieldLength(field, value.Length, omitEmpty: false);

    private static int OptionalStringLength(int field, string? value) =>
        value is null ? 0 : ProtobufWriter.StringFieldLength(field, value);

    private static void WriteOptionalBytes(ref ProtobufWriter writer, int field, byte[]? value)
    {
        if (value is not null)
        {
            writer.WriteBytesField(field, value, omitEmpty: false);
        }
    }

    private static void WriteOptionalString(ref ProtobufWriter writer, int field, string? value)
    {
        if (value is not null)
        {
            writer.WriteStringField(field, value);
        }
    }

    /// <summary>Collects the control entries of one RPC (which may come in several <c>control</c> fields) under one
    /// budget of entries and message ids.</summary>
    private sealed class ControlBuilder(PubSubRpcLimits limits)
    {
        private readonly List<ControlIHave> _ihave = [];
        private readonly List<ControlIWant> _iwant = [];
        private readonly List<ControlGraft> _graft = [];
        private readonly List<ControlPrune> _prune = [];
        private readonly List<ControlIDontWant> _idontwant = [];
        private int _entries;
        private int _ids;

        public void Add(ReadOnlySpan<byte> encoded)
        {
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                if (field is < IHaveField or > IDontWantField)
                {
                    reader.SkipField(wireType);
                    continue;
                }

                CheckCount(_entries++, limits.MaxControlEntries, "control entries");
                var entry = reader.ReadBytes(wireType);
                switch (field)
                {
                    case IHaveField:
                        _ihave.Add(DecodeIHave(entry));
                        break;
                    case IWantField:
                        _iwant.Add(new ControlIWant(DecodeIds(entry)));
                        break;
                    case GraftField:
                        _graft.Add(new ControlGraft(DecodeTopicOnly(entry)));
                        break;
                    case PruneField:
                        _prune.Add(DecodePrune(entry));
                        break;
                    default:
                        _idontwant.Add(new ControlIDontWant(DecodeIds(entry)));
                        break;
                }
            }
        }

        public ControlMessage Build() => new() { IHave = _ihave, IWant = _iwant, Graft = _graft, Prune = _prune, IDontWant = _idontwant };

        private ControlIHave DecodeIHave(ReadOnlySpan<byte> encoded)
        {
            string? topic = null;
            var ids = new List<MessageId>();
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                switch (field)
                {
                    case ControlTopicField:
                        topic = reader.ReadString(wireType, limits.MaxTopicLength, "IHAVE topic");
                        break;
                    case IHaveIdsField:
                        ids.Add(ReadId(ref reader, wireType));
                        break;
                    default:
                        reader.SkipField(wireType);
                        break;
                }
            }

            return new ControlIHave(topic, ids);
        }

        private List<MessageId> DecodeIds(ReadOnlySpan<byte> encoded)
        {
            var ids = new List<MessageId>();
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                if (field == IdsField)
                {
                    ids.Add(ReadId(ref reader, wireType));
                }
                else
                {
                    reader.SkipField(wireType);
                }
            }

            return ids;
        }

        private string? DecodeTopicOnly(ReadOnlySpan<byte> encoded)
        {
            string? topic = null;
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                if (field == ControlTopicField)
                {
                    topic = reader.ReadString(wireType, limits.MaxTopicLength, "GRAFT topic");
                }
                else
                {
                    reader.SkipField(wireType);
                }
            }

            return topic;
        }

        private ControlPrune DecodePrune(ReadOnlySpan<byte> encoded)
        {
            string? topic = null;
            ulong? backoff = null;
            var peers = new List<PeerExchangeInfo>();
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                switch (field)
                {
                    case ControlTopicField:
                        topic = reader.ReadString(wireType, limits.MaxTopicLength, "PRUNE topic");
                        break;
                    case PrunePeersField:
                        CheckCount(peers.Count, limits.MaxPeerExchangePeers, "peer exchange peers in a PRUNE");
                        peers.Add(DecodePeerInfo(reader.ReadBytes(wireType)));
                        break;
                    case PruneBackoffField:
                        backoff = reader.ReadVarintField(wireType);
                        break;
                    default:
                        reader.SkipField(wireType);
                        break;
                }
            }

            return new ControlPrune(topic, peers, backoff);
        }

        private static PeerExchangeInfo DecodePeerInfo(ReadOnlySpan<byte> encoded)
        {
            byte[]? peerId = null, record = null;
            var reader = new ProtobufReader(encoded);
            while (reader.TryReadTag(out var field, out var wireType))
            {
                switch (field)
                {
                    case PeerInfoIdField:
                        peerId = ReadBounded(ref reader, wireType, PeerId.MaxLength, "peer exchange peer id");
                        break;
                    case PeerInfoRecordField:
                        record = ReadBounded(ref reader, wireType, Envelope.MaxEncodedLength, "peer exchange signed record");
                        break;
                    default:
                        reader.SkipField(wireType);
                        break;
                }
            }

            return new PeerExchangeInfo(peerId, record);
        }

        private MessageId ReadId(ref ProtobufReader reader, int wireType)
        {
            CheckCount(_ids++, limits.MaxMessageIds, "message ids");
            return new MessageId(ReadBounded(ref reader, wireType, limits.MaxMessageIdLength, "a message id"));
        }
    }
}
