using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Kademlia;

/// <summary>
/// The Kademlia wire format (libp2p/specs <c>kad-dht/README.md</c>, "RPC messages"): a <see cref="KadMessage"/>
/// protobuf prefixed on the stream by its length as an unsigned varint. Pure: no I/O; every length is checked against
/// its bound before anything is allocated. Encodes fields in number order with proto3 defaults omitted, which is what
/// go-libp2p-kad-dht writes, byte for byte.
/// </summary>
public static class KadCodec
{
    /// <summary>The largest message body accepted or sent. go-libp2p-kad-dht allows 4 MiB; a full FIND_NODE answer
    /// (20 peers with their addresses) or a large record fits easily in 1 MiB.</summary>
    public const int MaxMessageLength = 1024 * 1024;

    /// <summary>The longest key: record keys are a namespace and a peer id or hash, provider keys a multihash.</summary>
    public const int MaxKeyLength = 2048;

    /// <summary>The longest record value on the wire (a store may bound it further).</summary>
    public const int MaxRecordValueLength = 256 * 1024;

    /// <summary>The longest <c>timeReceived</c> string (an RFC 3339 time is about 30 bytes).</summary>
    public const int MaxTimeReceivedLength = 64;

    /// <summary>The most peers in <c>closerPeers</c>, and separately in <c>providerPeers</c>.</summary>
    public const int MaxPeersPerList = 256;

    /// <summary>The most addresses of one peer.</summary>
    public const int MaxAddressesPerPeer = 64;

    /// <summary>The longest peer id (a multihash; real ones are at most 44 bytes).</summary>
    public const int MaxPeerIdLength = 128;

    private const int TypeField = 1;
    private const int KeyField = 2;
    private const int RecordField = 3;
    private const int CloserPeersField = 8;
    private const int ProviderPeersField = 9;
    private const int ClusterLevelField = 10;

    private const int RecordKeyField = 1;
    private const int RecordValueField = 2;
    private const int RecordTimeReceivedField = 5;

    private const int PeerIdField = 1;
    private const int PeerAddressesField = 2;
    private const int PeerConnectionField = 3;

    /// <summary>Decodes one message body. Unknown fields are skipped; unknown enum values are kept (proto3).</summary>
    /// <exception cref="WireFormatException">Malformed protobuf, invalid UTF-8, or a bound exceeded.</exception>
    public static KadMessage Decode(ReadOnlySpan<byte> body)
    {
        if (body.Length > MaxMessageLength)
        {
            throw new WireFormatException($"kad message of {body.Length} bytes exceeds {MaxMessageLength}");
        }

        var type = KadMessageType.PutValue;
        var clusterLevel = 0;
        ReadOnlyMemory<byte> key = Array.Empty<byte>();
        KadRecord? record = null;
        var closerPeers = new List<KadPeer>();
        var providerPeers = new List<KadPeer>();
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case TypeField:
                    type = (KadMessageType)(int)reader.ReadVarintField(wireType);
                    break;
                case ClusterLevelField:
                    clusterLevel = (int)reader.ReadVarintField(wireType);
                    break;
                case KeyField:
                    key = reader.ReadBoundedBytes(wireType, MaxKeyLength, "key");
                    break;
                case RecordField:
                    record = DecodeRecord(reader.ReadBytes(wireType));
                    break;
                case CloserPeersField:
                    CheckCount(closerPeers.Count, MaxPeersPerList, "closerPeers");
                    closerPeers.Add(DecodePeer(reader.ReadBytes(wireType)));
                    break;
                case ProviderPeersField:
                    CheckCount(providerPeers.Count, MaxPeersPerList, "providerPeers");
                    providerPeers.Add(DecodePeer(reader.ReadBytes(wireType)));
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new KadMessage
        {
            Type = type,
            ClusterLevelRaw = clusterLevel,
            Key = key,
            Record = record,
            CloserPeers = closerPeers,
            ProviderPeers = providerPeers,
        };
    }

    /// <summary>
    /// Reads one length-prefixed message from the start of <paramref name="buffer"/> and slices it off. Returns false,
    /// leaving the buffer as it was, while the prefix or the body is incomplete; an oversized prefix is refused before
    /// its body is waited for (<see cref="LengthPrefixedMessages.TryRead"/>).
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryReadDelimited(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out KadMessage? message) =>
        LengthPrefixedMessages.TryRead(ref buffer, KadMessageCodec.Instance, out message);

    /// <summary>The encoded body length of <paramref name="message"/>.</summary>
    public static int GetEncodedLength(KadMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var length = ProtobufWriter.VarintFieldLength(TypeField, (ulong)(long)message.Type, omitZero: true)
            + ProtobufWriter.BytesFieldLength(KeyField, message.Key.Length, omitEmpty: true)
            + ProtobufWriter.VarintFieldLength(ClusterLevelField, (ulong)(long)message.ClusterLevelRaw, omitZero: true);
        if (message.Record is { } record)
        {
            length += ProtobufWriter.BytesFieldLength(RecordField, RecordLength(record), omitEmpty: false);
        }

        foreach (var peer in message.CloserPeers)
        {
            length += ProtobufWriter.BytesFieldLength(CloserPeersField, PeerLength(peer), omitEmpty: false);
        }

        foreach (var peer in message.ProviderPeers)
        {
            length += ProtobufWriter.BytesFieldLength(ProviderPeersField, PeerLength(peer), omitEmpty: false);
        }

        return length;
    }

    /// <summary>Encodes the body into <paramref name="destination"/> (at least <see cref="GetEncodedLength"/> bytes).
    /// Returns the bytes written.</summary>
    public static int Encode(KadMessage message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new ProtobufWriter(destination[..GetEncodedLength(message)]);
        writer.WriteVarintField(TypeField, (ulong)(long)message.Type, omitZero: true);
        writer.WriteBytesField(KeyField, message.Key.Span, omitEmpty: true);
        if (message.Record is { } record)
        {
            writer.WriteLengthPrefix(RecordField, RecordLength(record));
            writer.WriteBytesField(RecordKeyField, record.Key.Span, omitEmpty: true);
            writer.WriteBytesField(RecordValueField, record.Value.Span, omitEmpty: true);
            if (record.TimeReceived.Length > 0)
            {
                writer.WriteStringField(RecordTimeReceivedField, record.TimeReceived);
            }
        }

        WritePeers(ref writer, CloserPeersField, message.CloserPeers);
        WritePeers(ref writer, ProviderPeersField, message.ProviderPeers);
        writer.WriteVarintField(ClusterLevelField, (ulong)(long)message.ClusterLevelRaw, omitZero: true);
        return writer.Written;
    }

    /// <summary>Encodes the body into a new array.</summary>
    public static byte[] ToBytes(KadMessage message)
    {
        var bytes = new byte[GetEncodedLength(message)];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>Writes the length prefix and the body into <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The message breaks a bound a peer would enforce (see the constants).</exception>
    public static void WriteDelimited(KadMessage message, IBufferWriter<byte> writer)
    {
        ThrowIfOverBounds(message);
        LengthPrefixedMessages.Write(writer, message, KadMessageCodec.Instance);
    }

    /// <summary>Throws when <paramref name="message"/> breaks a per-field bound a peer would enforce.</summary>
    /// <exception cref="ArgumentException">The bound broken.</exception>
    public static void ThrowIfOverBounds(KadMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (FindBoundViolation(message) is { } violation)
        {
            throw new ArgumentException($"peers would refuse this kad message: {violation}", nameof(message));
        }
    }

    /// <summary>Names the first per-field bound <paramref name="message"/> breaks, or returns null.</summary>
    private static string? FindBoundViolation(KadMessage message)
    {
        static bool PeerTooLarge(KadPeer peer) =>
            peer.Id.Length > MaxPeerIdLength || peer.Addresses.Count > MaxAddressesPerPeer || peer.Addresses.Any(a => a.Length > Multiaddr.MaxEncodedLength);

        return message switch
        {
            { Key.Length: > MaxKeyLength } => "the key is too long",
            { Record.Key.Length: > MaxKeyLength } => "the record key is too long",
            { Record.Value.Length: > MaxRecordValueLength } => "the record value is too long",
            { CloserPeers.Count: > MaxPeersPerList } or { ProviderPeers.Count: > MaxPeersPerList } => $"more than {MaxPeersPerList} peers in a list",
            _ when message.Record is { } r && ProtobufWriter.StrictUtf8.GetByteCount(r.TimeReceived) > MaxTimeReceivedLength => "timeReceived is too long",
            _ when message.CloserPeers.Any(PeerTooLarge) || message.ProviderPeers.Any(PeerTooLarge) => "a peer's id or addresses break a bound",
            _ => null,
        };
    }

    private static KadRecord DecodeRecord(ReadOnlySpan<byte> body)
    {
        ReadOnlyMemory<byte> key = Array.Empty<byte>();
        ReadOnlyMemory<byte> value = Array.Empty<byte>();
        var timeReceived = "";
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case RecordKeyField:
                    key = reader.ReadBoundedBytes(wireType, MaxKeyLength, "record key");
                    break;
                case RecordValueField:
                    value = reader.ReadBoundedBytes(wireType, MaxRecordValueLength, "record value");
                    break;
                case RecordTimeReceivedField:
                    timeReceived = reader.ReadString(wireType, MaxTimeReceivedLength, "record timeReceived");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new KadRecord { Key = key, Value = value, TimeReceived = timeReceived };
    }

    private static KadPeer DecodePeer(ReadOnlySpan<byte> body)
    {
        ReadOnlyMemory<byte> id = Array.Empty<byte>();
        var addresses = new List<ReadOnlyMemory<byte>>();
        var connection = KadConnectionType.NotConnected;
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case PeerIdField:
                    id = reader.ReadBoundedBytes(wireType, MaxPeerIdLength, "peer id");
                    break;
                case PeerAddressesField:
                    CheckCount(addresses.Count, MaxAddressesPerPeer, "addresses of one peer");
                    addresses.Add(reader.ReadBoundedBytes(wireType, Multiaddr.MaxEncodedLength, "peer address"));
                    break;
                case PeerConnectionField:
                    connection = (KadConnectionType)(int)reader.ReadVarintField(wireType);
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new KadPeer { Id = id, Addresses = addresses, Connection = connection };
    }

    private static int RecordLength(KadRecord record) =>
        ProtobufWriter.BytesFieldLength(RecordKeyField, record.Key.Length, omitEmpty: true)
        + ProtobufWriter.BytesFieldLength(RecordValueField, record.Value.Length, omitEmpty: true)
        + (record.TimeReceived.Length > 0 ? ProtobufWriter.StringFieldLength(RecordTimeReceivedField, record.TimeReceived) : 0);

    private static int PeerLength(KadPeer peer)
    {
        var length = ProtobufWriter.BytesFieldLength(PeerIdField, peer.Id.Length, omitEmpty: true)
            + ProtobufWriter.VarintFieldLength(PeerConnectionField, (ulong)(long)peer.Connection, omitZero: true);
        foreach (var address in peer.Addresses)
        {
            length += ProtobufWriter.BytesFieldLength(PeerAddressesField, address.Length, omitEmpty: false);
        }

        return length;
    }

    private static void WritePeers(ref ProtobufWriter writer, int field, IReadOnlyList<KadPeer> peers)
    {
        foreach (var peer in peers)
        {
            writer.WriteLengthPrefix(field, PeerLength(peer));
            writer.WriteBytesField(PeerIdField, peer.Id.Span, omitEmpty: true);
            foreach (var address in peer.Addresses)
            {
                writer.WriteBytesField(PeerAddressesField, address.Span, omitEmpty: false);
            }

            writer.WriteVarintField(PeerConnectionField, (ulong)(long)peer.Connection, omitZero: true);
        }
    }

    private static void CheckCount(int count, int max, string what)
    {
        if (count >= max)
        {
            throw new WireFormatException($"kad message has more than {max} {what}");
        }
    }
}

/// <summary><see cref="KadCodec"/> as the <see cref="IMessageCodec{TMessage}"/> that <see cref="LengthPrefixedMessages"/>
/// and <see cref="RequestResponse"/> frame on streams.</summary>
public sealed class KadMessageCodec : IMessageCodec<KadMessage>
{
    private KadMessageCodec()
    {
    }

    /// <summary>The one instance (the codec has no state).</summary>
    public static KadMessageCodec Instance { get; } = new();

    public int MaxMessageLength => KadCodec.MaxMessageLength;

    public int GetEncodedLength(KadMessage message) => KadCodec.GetEncodedLength(message);

    public void Encode(KadMessage message, Span<byte> destination) => KadCodec.Encode(message, destination);

    public KadMessage Decode(ReadOnlySpan<byte> body) => KadCodec.Decode(body);
}
