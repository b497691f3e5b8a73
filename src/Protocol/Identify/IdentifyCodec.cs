using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Protobuf;
using ToolNet.Protocol.Records;
using PublicKeyType = ToolNet.Protocol.Crypto.PublicKey;

namespace ToolNet.Protocol.Identify;

/// <summary>
/// The identify wire format: an <see cref="IdentifyMessage"/> protobuf, each one prefixed on the stream by its length
/// as an unsigned varint. Pure: no I/O, every length checked against its bound before anything is allocated.
/// </summary>
/// <remarks>
/// Written with the bounded <see cref="ProtobufReader"/> rather than generated Google.Protobuf code: the bounds here
/// are per field (1000 addresses, 1000 protocols, each entry capped) and must hold while reading, not after a parser
/// has materialised whatever a peer sent; strings must be strict UTF-8 (Google.Protobuf substitutes U+FFFD, which would
/// turn a malformed protocol id into a different one); and proto2 presence, which a push relies on to leave fields
/// unchanged, falls out of nullable fields.
/// </remarks>
public static class IdentifyCodec
{
    /// <summary>The largest message body accepted or sent; a larger length prefix is refused before the body arrives.</summary>
    public const int MaxMessageLength = 64 * 1024;

    /// <summary>The most listen addresses in a message (after merging, when a message comes in parts).</summary>
    public const int MaxListenAddresses = 1000;

    /// <summary>The most protocols in a message (after merging).</summary>
    public const int MaxProtocols = 1000;

    /// <summary>The longest protocol id, in UTF-8 bytes: the multistream-select limit.</summary>
    public const int MaxProtocolLength = MultistreamMessage.MaxProtocolIdLength;

    /// <summary>The longest protocol or agent version, in UTF-8 bytes.</summary>
    public const int MaxVersionLength = 1024;

    private const int PublicKeyField = 1;
    private const int ListenAddressesField = 2;
    private const int ProtocolsField = 3;
    private const int ObservedAddressField = 4;
    private const int ProtocolVersionField = 5;
    private const int AgentVersionField = 6;
    private const int SignedPeerRecordField = 8;

    /// <summary>
    /// Decodes one message body. With <paramref name="mergeInto"/>, the result is that message merged with this one
    /// as protobuf merges: a field present here replaces it, repeated fields are appended.
    /// Unknown fields are skipped.
    /// </summary>
    /// <exception cref="WireFormatException">Malformed protobuf, invalid UTF-8, or a bound exceeded.</exception>
    public static IdentifyMessage Decode(ReadOnlySpan<byte> body, IdentifyMessage? mergeInto = null)
    {
        if (body.Length > MaxMessageLength)
        {
            throw new WireFormatException($"identify message of {body.Length} bytes exceeds {MaxMessageLength}");
        }

        var protocolVersion = mergeInto?.ProtocolVersion;
        var agentVersion = mergeInto?.AgentVersion;
        var publicKey = mergeInto?.PublicKey;
        var observedAddress = mergeInto?.ObservedAddress;
        var signedPeerRecord = mergeInto?.SignedPeerRecord;
        var listenAddresses = new List<byte[]>(mergeInto?.ListenAddresses ?? []);
        var protocols = new List<string>(mergeInto?.Protocols ?? []);
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case PublicKeyField:
                    publicKey = reader.ReadBoundedBytes(wireType, PublicKeyType.MaxProtobufLength, "publicKey");
                    break;
                case ListenAddressesField:
                    CheckCount(listenAddresses.Count, MaxListenAddresses, "listenAddrs");
                    listenAddresses.Add(reader.ReadBoundedBytes(wireType, Multiaddr.MaxEncodedLength, "a listenAddrs entry"));
                    break;
                case ProtocolsField:
                    CheckCount(protocols.Count, MaxProtocols, "protocols");
                    protocols.Add(reader.ReadString(wireType, MaxProtocolLength, "a protocols entry"));
                    break;
                case ObservedAddressField:
                    observedAddress = reader.ReadBoundedBytes(wireType, Multiaddr.MaxEncodedLength, "observedAddr");
                    break;
                case ProtocolVersionField:
                    protocolVersion = reader.ReadString(wireType, MaxVersionLength, "protocolVersion");
                    break;
                case AgentVersionField:
                    agentVersion = reader.ReadString(wireType, MaxVersionLength, "agentVersion");
                    break;
                case SignedPeerRecordField:
                    signedPeerRecord = reader.ReadBoundedBytes(wireType, Envelope.MaxEncodedLength, "signedPeerRecord");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new IdentifyMessage
        {
            ProtocolVersion = protocolVersion,
            AgentVersion = agentVersion,
            PublicKey = publicKey,
            ListenAddresses = listenAddresses,
            ObservedAddress = observedAddress,
            Protocols = protocols,
            SignedPeerRecord = signedPeerRecord,
        };
    }

    /// <summary>
    /// Reads one length-prefixed message from the start of <paramref name="buffer"/> and slices it off. Returns false,
    /// leaving the buffer as it was, while the prefix or the body is incomplete. The prefix is checked against
    /// <see cref="MaxMessageLength"/> as soon as it is complete, so an oversized message is refused before its body
    /// is waited for or buffered.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryReadDelimited(ref ReadOnlySequence<byte> buffer, IdentifyMessage? mergeInto, [NotNullWhen(true)] out IdentifyMessage? message)
    {
        message = null;
        var reader = new SequenceReader<byte>(buffer);
        var status = Varint.TryRead(ref reader, out var length);
        if (status == VarintStatus.NeedMoreData)
        {
            return false;
        }

        Varint.ThrowIfNotDone(status);
        if (length > MaxMessageLength)
        {
            throw new WireFormatException($"identify message length prefix {length} exceeds {MaxMessageLength}");
        }

        if (reader.Remaining < (long)length)
        {
            return false;
        }

        var body = buffer.Slice(reader.Position, (long)length);
        if (body.IsSingleSegment)
        {
            message = Decode(body.FirstSpan, mergeInto);
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                body.CopyTo(rented);
                message = Decode(rented.AsSpan(0, (int)length), mergeInto);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>The encoded body length of <paramref name="message"/>.</summary>
    public static int GetEncodedLength(IdentifyMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var length = OptionalBytesLength(PublicKeyField, message.PublicKey)
            + OptionalBytesLength(ObservedAddressField, message.ObservedAddress)
            + OptionalBytesLength(SignedPeerRecordField, message.SignedPeerRecord)
            + OptionalStringLength(ProtocolVersionField, message.ProtocolVersion)
            + OptionalStringLength(AgentVersionField, message.AgentVersion);
        foreach (var address in message.ListenAddresses)
        {
            length += ProtobufWriter.BytesFieldLength(ListenAddressesField, address.Length, omitEmpty: false);
        }

        foreach (var protocol in message.Protocols)
        {
            length += ProtobufWriter.StringFieldLength(ProtocolsField, protocol);
        }

        return length;
    }

    /// <summary>Encodes the body into <paramref name="destination"/> (at least <see cref="GetEncodedLength"/> bytes),
    /// fields in number order, absent fields omitted. Returns the bytes written.</summary>
    public static int Encode(IdentifyMessage message, Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination[..GetEncodedLength(message)]);
        WriteOptionalBytes(ref writer, PublicKeyField, message.PublicKey);
        foreach (var address in message.ListenAddresses)
        {
            writer.WriteBytesField(ListenAddressesField, address, omitEmpty: false);
        }

        foreach (var protocol in message.Protocols)
        {
            writer.WriteStringField(ProtocolsField, protocol);
        }

        WriteOptionalBytes(ref writer, ObservedAddressField, message.ObservedAddress);
        WriteOptionalString(ref writer, ProtocolVersionField, message.ProtocolVersion);
        WriteOptionalString(ref writer, AgentVersionField, message.AgentVersion);
        WriteOptionalBytes(ref writer, SignedPeerRecordField, message.SignedPeerRecord);
        return writer.Written;
    }

    /// <summary>Encodes the body into a new array.</summary>
    public static byte[] ToBytes(IdentifyMessage message)
    {
        var bytes = new byte[GetEncodedLength(message)];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>Writes the length prefix and the body into <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The message breaks a bound a peer would enforce (see the constants).</exception>
    public static void WriteDelimited(IdentifyMessage message, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = GetEncodedLength(message);
        var violation = length > MaxMessageLength ? $"the message is {length} bytes, over {MaxMessageLength}" : FindBoundViolation(message);
        if (violation is not null)
        {
            throw new ArgumentException($"peers would refuse this identify message: {violation}", nameof(message));
        }

        var span = writer.GetSpan(Varint.MaxLength + length);
        var prefixLength = Varint.Write(span, (ulong)length);
        Encode(message, span[prefixLength..]);
        writer.Advance(prefixLength + length);
    }

    /// <summary>Names the first per-field bound <paramref name="message"/> breaks, or returns null.</summary>
    private static string? FindBoundViolation(IdentifyMessage message)
    {
        static bool TooLong(string? text, int max) => text is not null && ProtobufWriter.StrictUtf8.GetByteCount(text) > max;

        return message switch
        {
            { ListenAddresses.Count: > MaxListenAddresses } => $"more than {MaxListenAddresses} listen addresses",
            { Protocols.Count: > MaxProtocols } => $"more than {MaxProtocols} protocols",
            _ when message.ListenAddresses.Any(a => a.Length > Multiaddr.MaxEncodedLength) => "a listen address is too long",
            _ when message.Protocols.Any(p => TooLong(p, MaxProtocolLength)) => "a protocol id is too long",
            { PublicKey.Length: > PublicKeyType.MaxProtobufLength } => "the public key is too long",
            { ObservedAddress.Length: > Multiaddr.MaxEncodedLength } => "the observed address is too long",
            _ when TooLong(message.ProtocolVersion, MaxVersionLength) || TooLong(message.AgentVersion, MaxVersionLength) => "a version string is too long",
            _ => null,
        };
    }

    private static void CheckCount(int count, int max, string what)
    {
        if (count >= max)
        {
            throw new WireFormatException($"identify message has more than {max} {what}");
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
}
