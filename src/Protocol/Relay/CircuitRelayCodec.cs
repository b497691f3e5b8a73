using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// The circuit relay v2 wire format (circuit-v2 spec, "Protobuf"): <see cref="HopMessage"/> and
/// <see cref="StopMessage"/>, each prefixed on its stream by its length as an unsigned varint (<see cref="Hop"/> and
/// <see cref="Stop"/> frame them). Pure: no I/O, every length checked against its bound before anything is allocated. The type field is always written, zero included,
/// because the spec's proto2 schema makes it required.
/// </summary>
public static class CircuitRelayCodec
{
    /// <summary>The largest message body accepted or sent (a reservation with its addresses and voucher fits easily).</summary>
    public const int MaxMessageLength = 4096;

    /// <summary>The most addresses in a peer or reservation.</summary>
    public const int MaxAddresses = 64;

    // HopMessage
    private const int HopTypeField = 1;
    private const int HopPeerField = 2;
    private const int HopReservationField = 3;
    private const int HopLimitField = 4;
    private const int HopStatusField = 5;

    // StopMessage
    private const int StopTypeField = 1;
    private const int StopPeerField = 2;
    private const int StopLimitField = 3;
    private const int StopStatusField = 4;

    // Peer
    private const int PeerIdField = 1;
    private const int PeerAddressesField = 2;

    // Reservation
    private const int ReservationExpireField = 1;
    private const int ReservationAddressesField = 2;
    private const int ReservationVoucherField = 3;

    // Limit
    private const int LimitDurationField = 1;
    private const int LimitDataField = 2;

    /// <summary>Hop messages framed on a stream (<see cref="LengthPrefixedMessages"/>).</summary>
    public static IMessageCodec<HopMessage> Hop { get; } = new HopCodec();

    /// <summary>Stop messages framed on a stream (<see cref="LengthPrefixedMessages"/>).</summary>
    public static IMessageCodec<StopMessage> Stop { get; } = new StopCodec();

    /// <summary>Decodes a hop message body; unknown fields are skipped.</summary>
    /// <exception cref="WireFormatException">Malformed protobuf or a bound exceeded.</exception>
    public static HopMessage DecodeHop(ReadOnlySpan<byte> body)
    {
        CheckLength(body.Length);
        var message = new HopMessage();
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            message = field switch
            {
                HopTypeField => message with { Type = (HopMessageType)ReadEnum(ref reader, wireType, "type") },
                HopPeerField => message with { Peer = DecodePeer(reader.ReadBytes(wireType)) },
                HopReservationField => message with { Reservation = DecodeReservation(reader.ReadBytes(wireType)) },
                HopLimitField => message with { Limit = DecodeLimit(reader.ReadBytes(wireType)) },
                HopStatusField => message with { Status = (RelayStatus)ReadEnum(ref reader, wireType, "status") },
                _ => Skip(ref reader, wireType, message),
            };
        }

        return message;
    }

    /// <summary>Decodes a stop message body; unknown fields are skipped.</summary>
    /// <exception cref="WireFormatException">Malformed protobuf or a bound exceeded.</exception>
    public static StopMessage DecodeStop(ReadOnlySpan<byte> body)
    {
        CheckLength(body.Length);
        var message = new StopMessage();
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            message = field switch
            {
                StopTypeField => message with { Type = (StopMessageType)ReadEnum(ref reader, wireType, "type") },
                StopPeerField => message with { Peer = DecodePeer(reader.ReadBytes(wireType)) },
                StopLimitField => message with { Limit = DecodeLimit(reader.ReadBytes(wireType)) },
                StopStatusField => message with { Status = (RelayStatus)ReadEnum(ref reader, wireType, "status") },
                _ => Skip(ref reader, wireType, message),
            };
        }

        return message;
    }

    /// <summary>The encoded body length of a hop message.</summary>
    public static int GetEncodedLength(HopMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ProtobufWriter.VarintFieldLength(HopTypeField, EnumValue((int)message.Type), omitZero: false)
            + (message.Peer is null ? 0 : ProtobufWriter.BytesFieldLength(HopPeerField, PeerLength(message.Peer), omitEmpty: false))
            + (message.Reservation is null ? 0 : ProtobufWriter.BytesFieldLength(HopReservationField, ReservationLength(message.Reservation), omitEmpty: false))
            + (message.Limit is null ? 0 : ProtobufWriter.BytesFieldLength(HopLimitField, LimitLength(message.Limit), omitEmpty: false))
            + (message.Status is { } status ? ProtobufWriter.VarintFieldLength(HopStatusField, EnumValue((int)status), omitZero: false) : 0);
    }

    /// <summary>Encodes a hop message body into <paramref name="destination"/>, fields in number order; returns the
    /// bytes written (<see cref="GetEncodedLength(HopMessage)"/>).</summary>
    public static int Encode(HopMessage message, Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination[..GetEncodedLength(message)]);
        writer.WriteVarintField(HopTypeField, EnumValue((int)message.Type), omitZero: false);
        if (message.Peer is not null)
        {
            writer.WriteLengthPrefix(HopPeerField, PeerLength(message.Peer));
            WritePeer(ref writer, message.Peer);
        }

        if (message.Reservation is not null)
        {
            writer.WriteLengthPrefix(HopReservationField, ReservationLength(message.Reservation));
            WriteReservation(ref writer, message.Reservation);
        }

        if (message.Limit is not null)
        {
            writer.WriteLengthPrefix(HopLimitField, LimitLength(message.Limit));
            WriteLimit(ref writer, message.Limit);
        }

        if (message.Status is { } status)
        {
            writer.WriteVarintField(HopStatusField, EnumValue((int)status), omitZero: false);
        }

        return writer.Written;
    }

    /// <summary>The encoded body length of a stop message.</summary>
    public static int GetEncodedLength(StopMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ProtobufWriter.VarintFieldLength(StopTypeField, EnumValue((int)message.Type), omitZero: false)
            + (message.Peer is null ? 0 : ProtobufWriter.BytesFieldLength(StopPeerField, PeerLength(message.Peer), omitEmpty: false))
            + (message.Limit is null ? 0 : ProtobufWriter.BytesFieldLength(StopLimitField, LimitLength(message.Limit), omitEmpty: false))
            + (message.Status is { } status ? ProtobufWriter.VarintFieldLength(StopStatusField, EnumValue((int)status), omitZero: false) : 0);
    }

    /// <summary>Encodes a stop message body into <paramref name="destination"/>, fields in number order; returns the
    /// bytes written (<see cref="GetEncodedLength(StopMessage)"/>).</summary>
    public static int Encode(StopMessage message, Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination[..GetEncodedLength(message)]);
        writer.WriteVarintField(StopTypeField, EnumValue((int)message.Type), omitZero: false);
        if (message.Peer is not null)
        {
            writer.WriteLengthPrefix(StopPeerField, PeerLength(message.Peer));
            WritePeer(ref writer, message.Peer);
        }

        if (message.Limit is not null)
        {
            writer.WriteLengthPrefix(StopLimitField, LimitLength(message.Limit));
            WriteLimit(ref writer, message.Limit);
        }

        if (message.Status is { } status)
        {
            writer.WriteVarintField(StopStatusField, EnumValue((int)status), omitZero: false);
        }

        return writer.Written;
    }

    /// <summary>Encodes a hop message body into a new array.</summary>
    public static byte[] ToBytes(HopMessage message)
    {
        var bytes = new byte[GetEncodedLength(message)];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>Encodes a stop message body into a new array.</summary>
    public static byte[] ToBytes(StopMessage message)
    {
        var bytes = new byte[GetEncodedLength(message)];
        Encode(message, bytes);
        return bytes;
    }

    /// <summary>Parses the peer id of a <see cref="RelayPeerInfo"/>.</summary>
    /// <exception cref="WireFormatException">The bytes are not a peer id.</exception>
    public static PeerId ParsePeerId(RelayPeerInfo peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return PeerId.FromBytes(peer.Id);
    }

    /// <summary>The addresses that decode as multiaddrs; the rest (protocols we do not know) are dropped.</summary>
    public static IReadOnlyList<Multiaddr> DecodeAddresses(IReadOnlyList<byte[]> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var decoded = new List<Multiaddr>(addresses.Count);
        foreach (var bytes in addresses)
        {
            if (Multiaddr.TryDecode(bytes, out var address))
            {
                decoded.Add(address);
            }
        }

        return decoded;
    }

    private static void CheckLength(ulong length)
    {
        if (length > MaxMessageLength)
        {
            throw new WireFormatException($"relay message of {length} bytes exceeds {MaxMessageLength}");
        }
    }

    private static void CheckLength(int length) => CheckLength((ulong)length);

    /// <summary>The hop codec for <see cref="LengthPrefixedMessages"/>.</summary>
    private sealed class HopCodec : IMessageCodec<HopMessage>
    {
        public int MaxMessageLength => CircuitRelayCodec.MaxMessageLength;

        public int GetEncodedLength(HopMessage message) => CircuitRelayCodec.GetEncodedLength(message);

        public void Encode(HopMessage message, Span<byte> destination) => CircuitRelayCodec.Encode(message, destination);

        public HopMessage Decode(ReadOnlySpan<byte> body) => DecodeHop(body);
    }

    /// <summary>The stop codec for <see cref="LengthPrefixedMessages"/>.</summary>
    private sealed class StopCodec : IMessageCodec<StopMessage>
    {
        public int MaxMessageLength => CircuitRelayCodec.MaxMessageLength;

        public int GetEncodedLength(StopMessage message) => CircuitRelayCodec.GetEncodedLength(message);

        public void Encode(StopMessage message, Span<byte> destination) => CircuitRelayCodec.Encode(message, destination);

        public StopMessage Decode(ReadOnlySpan<byte> body) => DecodeStop(body);
    }

    private static T Skip<T>(ref ProtobufReader reader, int wireType, T message)
    {
        reader.SkipField(wireType);
        return message;
    }

    // Enums are int32 on the wire; a negative one arrives as a ten-byte varint and is out of every range we accept.
    private static int ReadEnum(ref ProtobufReader reader, int wireType, string what)
    {
        var value = reader.ReadVarintField(wireType);
        return value <= int.MaxValue ? (int)value : throw new WireFormatException($"{what} {value} is out of range");
    }

    private static ulong EnumValue(int value) => (ulong)(long)value;

    private static RelayPeerInfo DecodePeer(ReadOnlySpan<byte> body)
    {
        byte[]? id = null;
        var addresses = new List<byte[]>();
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case PeerIdField:
                    id = ReadBounded(ref reader, wireType, PeerId.MaxLength, "peer id");
                    break;
                case PeerAddressesField:
                    addresses.Add(ReadAddress(ref reader, wireType, addresses.Count));
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new RelayPeerInfo(id ?? throw new WireFormatException("a peer without an id"), addresses);
    }

    private static RelayReservation DecodeReservation(ReadOnlySpan<byte> body)
    {
        ulong expire = 0;
        byte[]? voucher = null;
        var addresses = new List<byte[]>();
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case ReservationExpireField:
                    expire = reader.ReadVarintField(wireType);
                    break;
                case ReservationAddressesField:
                    addresses.Add(ReadAddress(ref reader, wireType, addresses.Count));
                    break;
                case ReservationVoucherField:
                    voucher = ReadBounded(ref reader, wireType, MaxMessageLength, "voucher");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new RelayReservation(expire, addresses, voucher);
    }

    private static RelayLimit DecodeLimit(ReadOnlySpan<byte> body)
    {
        uint? duration = null;
        ulong? data = null;
        var reader = new ProtobufReader(body);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case LimitDurationField:
                    var value = reader.ReadVarintField(wireType);
                    duration = value <= uint.MaxValue ? (uint)value : throw new WireFormatException($"limit duration {value} is out of range");
                    break;
                case LimitDataField:
                    data = reader.ReadVarintField(wireType);
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new RelayLimit(duration, data);
    }

    private static byte[] ReadAddress(ref ProtobufReader reader, int wireType, int countSoFar)
    {
        if (countSoFar >= MaxAddresses)
        {
            throw new WireFormatException($"more than {MaxAddresses} addresses");
        }

        return ReadBounded(ref reader, wireType, Multiaddr.MaxEncodedLength, "an address");
    }

    private static byte[] ReadBounded(ref ProtobufReader reader, int wireType, int maxLength, string what)
    {
        var bytes = reader.ReadBytes(wireType);
        return bytes.Length <= maxLength
            ? bytes.ToArray()
            : throw new WireFormatException($"{what} is {bytes.Length} bytes, over the {maxLength}-byte limit");
    }

    private static int PeerLength(RelayPeerInfo peer) =>
        ProtobufWriter.BytesFieldLength(PeerIdField, peer.Id.Length, omitEmpty: false)
        + peer.Addresses.Sum(a => ProtobufWriter.BytesFieldLength(PeerAddressesField, a.Length, omitEmpty: false));

    private static void WritePeer(ref ProtobufWriter writer, RelayPeerInfo peer)
    {
        writer.WriteBytesField(PeerIdField, peer.Id, omitEmpty: false);
        foreach (var address in peer.Addresses)
        {
            writer.WriteBytesField(PeerAddressesField, address, omitEmpty: false);
        }
    }

    private static int ReservationLength(RelayReservation reservation) =>
        ProtobufWriter.VarintFieldLength(ReservationExpireField, reservation.Expire, omitZero: false)
        + reservation.Addresses.Sum(a => ProtobufWriter.BytesFieldLength(ReservationAddressesField, a.Length, omitEmpty: false))
        + (reservation.Voucher is null ? 0 : ProtobufWriter.BytesFieldLength(ReservationVoucherField, reservation.Voucher.Length, omitEmpty: false));

    private static void WriteReservation(ref ProtobufWriter writer, RelayReservation reservation)
    {
        writer.WriteVarintField(ReservationExpireField, reservation.Expire, omitZero: false);
        foreach (var address in reservation.Addresses)
        {
            writer.WriteBytesField(ReservationAddressesField, address, omitEmpty: false);
        }

        if (reservation.Voucher is not null)
        {
            writer.WriteBytesField(ReservationVoucherField, reservation.Voucher, omitEmpty: false);
        }
    }

    private static int LimitLength(RelayLimit limit) =>
        (limit.Duration is { } duration ? ProtobufWriter.VarintFieldLength(LimitDurationField, duration, omitZero: false) : 0)
        + (limit.Data is { } data ? ProtobufWriter.VarintFieldLength(LimitDataField, data, omitZero: false) : 0);

    private static void WriteLimit(ref ProtobufWriter writer, RelayLimit limit)
    {
        if (limit.Duration is { } duration)
        {
            writer.WriteVarintField(LimitDurationField, duration, omitZero: false);
        }

        if (limit.Data is { } data)
        {
            writer.WriteVarintField(LimitDataField, data, omitZero: false);
        }
    }
}
