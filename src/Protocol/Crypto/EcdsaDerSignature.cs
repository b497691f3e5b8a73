namespace ToolNet.Protocol.Crypto;

/// <summary>
/// ECDSA signatures as the DER <c>SEQUENCE { INTEGER r, INTEGER s }</c> that libp2p uses for secp256k1 and ECDSA keys
/// (peer-ids.md: "standard Bitcoin encoding" / "DER-encoded ASN.1"). Decoding is strict DER (BIP 66 for secp256k1):
/// definite minimal lengths, minimal positive integers, nothing trailing, so one signature has one encoding.
/// </summary>
internal static class EcdsaDerSignature
{
    private const byte SequenceTag = 0x30;
    private const byte IntegerTag = 0x02;

    /// <summary>Encodes <paramref name="r"/> and <paramref name="s"/> (unsigned big-endian, any leading zeros).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s)
    {
        r = TrimLeadingZeros(r);
        s = TrimLeadingZeros(s);
        var rLength = IntegerContentLength(r);
        var sLength = IntegerContentLength(s);
        var bodyLength = 1 + LengthOfLength(rLength) + rLength + 1 + LengthOfLength(sLength) + sLength;
        var der = new byte[1 + LengthOfLength(bodyLength) + bodyLength];
        var offset = 0;
        der[offset++] = SequenceTag;
        offset += WriteLength(der.AsSpan(offset), bodyLength);
        offset += WriteInteger(der.AsSpan(offset), r, rLength);
        WriteInteger(der.AsSpan(offset), s, sLength);
        return der;
    }

    /// <summary>Decodes a strict-DER signature into <paramref name="r"/> and <paramref name="s"/>, each left-padded to
    /// its span's length; false when the bytes are not strict DER or an integer does not fit.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> der, Span<byte> r, Span<byte> s)
    {
        if (!TryReadElement(ref der, SequenceTag, out var body) || !der.IsEmpty)
        {
            return false;
        }

        return TryReadInteger(ref body, r) && TryReadInteger(ref body, s) && body.IsEmpty;
    }

    private static bool TryReadInteger(ref ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (!TryReadElement(ref source, IntegerTag, out var content) || content.IsEmpty)
        {
            return false;
        }

        if ((content[0] & 0x80) != 0)
        {
            return false; // negative
        }

        if (content.Length > 1 && content[0] == 0 && (content[1] & 0x80) == 0)
        {
            return false; // non-minimal leading zero
        }

        var magnitude = TrimLeadingZeros(content);
        if (magnitude.Length > destination.Length)
        {
            return false;
        }

        destination.Clear();
        magnitude.CopyTo(destination[(destination.Length - magnitude.Length)..]);
        return true;
    }

    // Reads tag, definite length (short form, or 0x81 for 128..255: ECDSA signatures are never longer), content.
    private static bool TryReadElement(ref ReadOnlySpan<byte> source, byte tag, out ReadOnlySpan<byte> content)
    {
        content = default;
        if (source.Length < 2 || source[0] != tag)
        {
            return false;
        }

        int length = source[1];
        var header = 2;
        if (length == 0x81)
        {
            if (source.Length < 3 || source[2] < 0x80)
            {
                return false;
            }

            length = source[2];
            header = 3;
        }
        else if (length > 0x7F)
        {
            return false;
        }

        if (source.Length - header < length)
        {
            return false;
        }

        content = source.Slice(header, length);
        source = source[(header + length)..];
        return true;
    }

    private static ReadOnlySpan<byte> TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length && value[start] == 0)
        {
            start++;
        }

        return value[start..];
    }

    // A DER INTEGER of a magnitude: at least one byte, plus a zero byte when the top bit is set.
    private static int IntegerContentLength(ReadOnlySpan<byte> magnitude) =>
        magnitude.IsEmpty ? 1 : magnitude.Length + (magnitude[0] >= 0x80 ? 1 : 0);

    private static int LengthOfLength(int length) => length < 0x80 ? 1 : 2;

    private static int WriteLength(Span<byte> destination, int length)
    {
        if (length < 0x80)
        {
            destination[0] = (byte)length;
            return 1;
        }

        destination[0] = 0x81;
        destination[1] = checked((byte)length);
        return 2;
    }

    private static int WriteInteger(Span<byte> destination, ReadOnlySpan<byte> magnitude, int contentLength)
    {
        destination[0] = IntegerTag;
        var offset = 1 + WriteLength(destination[1..], contentLength);
        destination.Slice(offset, contentLength).Clear();
        magnitude.CopyTo(destination[(offset + contentLength - magnitude.Length)..]);
        return offset + contentLength;
    }
}
