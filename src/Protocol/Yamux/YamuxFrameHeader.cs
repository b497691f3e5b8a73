using System.Buffers;
using System.Buffers.Binary;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// The 12-byte yamux frame header: version (u8, always 0), type (u8), flags (u16), stream id (u32), length (u32),
/// all big-endian (libp2p/specs yamux/README.md, "Framing"). A pure codec: it checks the version and the type;
/// what a length may be (a data frame within the granted window, for example) is the session's business.
/// Unknown flag bits are preserved, not rejected: the spec defines four and says nothing about the others.
/// </summary>
public readonly record struct YamuxFrameHeader(YamuxFrameType Type, YamuxFrameFlags Flags, uint StreamId, uint Length)
{
    /// <summary>The encoded size of every header.</summary>
    public const int Size = 12;

    /// <summary>The only version the spec defines.</summary>
    public const byte ProtocolVersion = 0;

    /// <summary>A data frame header; <paramref name="length"/> payload bytes follow it.</summary>
    public static YamuxFrameHeader Data(uint streamId, YamuxFrameFlags flags, uint length) =>
        new(YamuxFrameType.Data, flags, streamId, length);

    /// <summary>A window update granting <paramref name="delta"/> more bytes on a stream.</summary>
    public static YamuxFrameHeader WindowUpdate(uint streamId, YamuxFrameFlags flags, uint delta) =>
        new(YamuxFrameType.WindowUpdate, flags, streamId, delta);

    /// <summary>A ping request (<see cref="YamuxFrameFlags.Syn"/>) or response (<see cref="YamuxFrameFlags.Ack"/>) on stream 0.</summary>
    public static YamuxFrameHeader Ping(YamuxFrameFlags flags, uint opaque) =>
        new(YamuxFrameType.Ping, flags, 0, opaque);

    /// <summary>A go-away frame on stream 0.</summary>
    public static YamuxFrameHeader GoAway(YamuxGoAwayCode code) =>
        new(YamuxFrameType.GoAway, YamuxFrameFlags.None, 0, (uint)code);

    /// <summary>Whether every bit of <paramref name="flag"/> is set.</summary>
    public bool Has(YamuxFrameFlags flag) => (Flags & flag) == flag;

    /// <summary>Decodes a header from the first <see cref="Size"/> bytes of <paramref name="source"/>.</summary>
    /// <exception cref="WireFormatException">Too few bytes, an unknown version or an unknown type.</exception>
    public static YamuxFrameHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new WireFormatException($"a yamux header is {Size} bytes, got {source.Length}");
        }

        if (source[0] != ProtocolVersion)
        {
            throw new WireFormatException($"unsupported yamux version {source[0]}");
        }

        var type = source[1];
        if (type > (byte)YamuxFrameType.GoAway)
        {
            throw new WireFormatException($"unknown yamux frame type {type}");
        }

        return new YamuxFrameHeader(
            (YamuxFrameType)type,
            (YamuxFrameFlags)BinaryPrimitives.ReadUInt16BigEndian(source[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(source[8..]));
    }

    /// <summary>Decodes a header from the start of <paramref name="buffer"/>; false when fewer than
    /// <see cref="Size"/> bytes are buffered yet.</summary>
    /// <exception cref="WireFormatException">An unknown version or type.</exception>
    public static bool TryRead(in ReadOnlySequence<byte> buffer, out YamuxFrameHeader header)
    {
        if (buffer.Length < Size)
        {
            header = default;
            return false;
        }

        var first = buffer.FirstSpan;
        if (first.Length >= Size)
        {
            header = Read(first);
            return true;
        }

        Span<byte> copy = stackalloc byte[Size];
        buffer.Slice(0, Size).CopyTo(copy);
        header = Read(copy);
        return true;
    }

    /// <summary>Encodes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"need {Size} bytes", nameof(destination));
        }

        destination[0] = ProtocolVersion;
        destination[1] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Flags);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Length);
    }

    /// <summary>Encodes the header into <paramref name="writer"/> and advances it.</summary>
    public void Write(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Write(writer.GetSpan(Size));
        writer.Advance(Size);
    }
}
