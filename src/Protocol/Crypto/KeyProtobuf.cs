using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// The <c>PublicKey</c> / <c>PrivateKey</c> protobuf (both are <c>{ required KeyType Type = 1; required bytes Data = 2; }</c>),
/// written and read by hand in the one deterministic layout: <c>08 type 12 varint(len) data</c>.
/// </summary>
/// <remarks>
/// Peer ids hash this encoding, so it must be deterministic (peer-ids.md, "Note about deterministic encoding":
/// fields ordered by number, no extra fields). The decoder therefore accepts exactly what the encoder writes:
/// Type first and present even for RSA (0, proto2 <c>required</c>), Data second, minimal varints, no unknown,
/// repeated or trailing fields. Any other layout would let one key have several peer ids.
/// </remarks>
internal static class KeyProtobuf
{
    /// <summary>The largest encoded key message accepted (an 8192-bit RSA private key needs about 4.7 KiB).</summary>
    public const int MaxLength = 16 * 1024;

    private const byte TypeTag = (1 << 3) | 0; // field 1, varint
    private const byte DataTag = (2 << 3) | 2; // field 2, length-delimited

    /// <summary>The encoded length of a message carrying <paramref name="dataLength"/> bytes of Data.</summary>
    public static int LengthOf(int dataLength) => 3 + Varint.SizeOf((ulong)dataLength) + dataLength;

    /// <summary>Writes the message into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, KeyType type, ReadOnlySpan<byte> data)
    {
        var length = LengthOf(data.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"the key protobuf needs {length} bytes", nameof(destination));
        }

        destination[0] = TypeTag;
        destination[1] = (byte)type; // every KeyType fits in one varint byte
        destination[2] = DataTag;
        var offset = 3 + Varint.Write(destination[3..], (ulong)data.Length);
        data.CopyTo(destination[offset..]);
        return length;
    }

    /// <summary>Encodes the message into a new array.</summary>
    public static byte[] Encode(KeyType type, ReadOnlySpan<byte> data)
    {
        var bytes = new byte[LengthOf(data.Length)];
        Write(bytes, type, data);
        return bytes;
    }

    /// <summary>Reads a whole message; <paramref name="data"/> is a slice of <paramref name="encoded"/>.</summary>
    /// <exception cref="WireFormatException">Not exactly the deterministic layout, over <see cref="MaxLength"/>, or an unknown key type.</exception>
    public static KeyType Read(ReadOnlySpan<byte> encoded, out ReadOnlySpan<byte> data)
    {
        if (encoded.Length > MaxLength)
        {
            throw new WireFormatException($"key protobuf of {encoded.Length} bytes exceeds {MaxLength}");
        }

        if (encoded.Length < 3 || encoded[0] != TypeTag)
        {
            throw new WireFormatException("key protobuf must start with the Type field (tag 0x08)");
        }

        var rest = encoded[1..];
        var type = Varint.Read(ref rest);
        if (type > (ulong)KeyType.ECDSA)
        {
            throw new WireFormatException($"unknown key type {type}");
        }

        if (rest.IsEmpty || rest[0] != DataTag)
        {
            throw new WireFormatException("key protobuf must have the Data field (tag 0x12) right after Type");
        }

        rest = rest[1..];
        var length = Varint.Read(ref rest);
        if (length != (ulong)rest.Length)
        {
            throw new WireFormatException(length > (ulong)rest.Length
                ? $"key protobuf Data declares {length} bytes but {rest.Length} follow"
                : "key protobuf has bytes after the Data field");
        }

        data = rest;
        return (KeyType)type;
    }
}
