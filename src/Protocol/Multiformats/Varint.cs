using System.Buffers;

namespace ToolNet.Protocol.Multiformats;

/// <summary>Outcome of reading an unsigned varint.</summary>
public enum VarintStatus
{
    /// <summary>A complete, minimally encoded varint was read.</summary>
    Done,

    /// <summary>The input ended inside the varint; more bytes may complete it.</summary>
    NeedMoreData,

    /// <summary>The varint has a redundant trailing zero group (not minimal); the spec forbids it.</summary>
    NonMinimal,

    /// <summary>The varint is longer than 9 bytes (63 bits), the spec's maximum.</summary>
    Overflow,
}

/// <summary>
/// Unsigned varint as specified by multiformats/unsigned-varint: little-endian base-128 groups, the high bit
/// of each byte set on all but the last. Only minimal encodings are accepted and at most 9 bytes (63 bits)
/// are practical maximum the spec allows.
/// </summary>
public static class Varint
{
    /// <summary>The longest valid encoding: 9 bytes, 63 value bits.</summary>
    public const int MaxLength = 9;

    /// <summary>The largest encodable value, 2^63 - 1.</summary>
    public const ulong MaxValue = long.MaxValue;

    /// <summary>The number of bytes <paramref name="value"/> takes when encoded.</summary>
    public static int SizeOf(ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        var bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1);
        return (bits + 6) / 7;
    }

    /// <summary>Encodes <paramref name="value"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    /// <summary>Encodes <paramref name="value"/> into <paramref name="writer"/>.</summary>
    public static void Write(IBufferWriter<byte> writer, ulong value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var written = Write(writer.GetSpan(MaxLength), value);
        writer.Advance(written);
    }

    /// <summary>Encodes <paramref name="value"/> into a new array.</summary>
    public static byte[] Encode(ulong value)
    {
        var bytes = new byte[SizeOf(value)];
        Write(bytes, value);
        return bytes;
    }

    /// <summary>Reads one varint from the start of <paramref name="source"/> without throwing.</summary>
    public static VarintStatus TryRead(ReadOnlySpan<byte> source, out ulong value, out int bytesRead)
    {
        value = 0;
        bytesRead = 0;
        for (var i = 0; i < MaxLength; i++)
        {
            if (i == source.Length)
            {
                return VarintStatus.NeedMoreData;
            }

            var b = source[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (b == 0 && i > 0)
                {
                    value = 0;
                    return VarintStatus.NonMinimal;
                }

                bytesRead = i + 1;
                return VarintStatus.Done;
            }
        }

        value = 0;
        return VarintStatus.Overflow;
    }

    /// <summary>Reads one varint from <paramref name="reader"/>, advancing it only when the status is <see cref="VarintStatus.Done"/>.</summary>
    public static VarintStatus TryRead(ref SequenceReader<byte> reader, out ulong value)
    {
        if (reader.UnreadSpan.Length >= MaxLength)
        {
            var status = TryRead(reader.UnreadSpan, out value, out var read);
            if (status == VarintStatus.Done)
            {
                reader.Advance(read);
            }

            return status;
        }

        Span<byte> scratch = stackalloc byte[MaxLength];
        var available = (int)Math.Min(reader.Remaining, MaxLength);
        reader.TryCopyTo(scratch[..available]);
        var result = TryRead(scratch[..available], out value, out var bytesRead);
        if (result == VarintStatus.Done)
        {
            reader.Advance(bytesRead);
        }

        return result;
    }

    /// <summary>Reads one varint from the start of <paramref name="source"/>.</summary>
    /// <exception cref="WireFormatException">The varint is truncated, not minimal, or longer than 9 bytes.</exception>
    public static ulong Read(ReadOnlySpan<byte> source, out int bytesRead)
    {
        var status = TryRead(source, out var value, out bytesRead);
        ThrowIfNotDone(status);
        return value;
    }

    /// <summary>Reads one varint from the start of <paramref name="source"/> and slices it off.</summary>
    /// <exception cref="WireFormatException">The varint is truncated, not minimal, or longer than 9 bytes.</exception>
    public static ulong Read(ref ReadOnlySpan<byte> source)
    {
        var value = Read(source, out var read);
        source = source[read..];
        return value;
    }

    /// <summary>Throws the format error that describes a non-<see cref="VarintStatus.Done"/> status.</summary>
    public static void ThrowIfNotDone(VarintStatus status)
    {
        switch (status)
        {
            case VarintStatus.Done:
                return;
            case VarintStatus.NeedMoreData:
                throw new VarintFormatException(status, "varint is truncated");
            case VarintStatus.NonMinimal:
                throw new VarintFormatException(status, "varint is not minimally encoded");
            default:
                throw new VarintFormatException(status, "varint is longer than 9 bytes");
        }
    }
}

/// <summary>A varint was truncated, not minimal, or too long; <see cref="Status"/> says which.</summary>
public sealed class VarintFormatException : WireFormatException
{
    public VarintFormatException()
    {
    }

    public VarintFormatException(string message)
        : base(message)
    {
    }

    public VarintFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public VarintFormatException(VarintStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    /// <summary>Why the varint was rejected.</summary>
    public VarintStatus Status { get; }
}
