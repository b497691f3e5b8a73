using System.Numerics;
using System.Text;

namespace ToolNet.Protocol.Multiformats;

/// <summary>The multibase encodings ToolNet reads and writes, by their prefix character.</summary>
public enum MultibaseEncoding
{
    /// <summary><c>f</c>: lowercase hexadecimal.</summary>
    Base16Lower = 'f',

    /// <summary><c>F</c>: uppercase hexadecimal.</summary>
    Base16Upper = 'F',

    /// <summary><c>b</c>: RFC 4648 base32, lowercase, no padding (the CIDv1 default).</summary>
    Base32Lower = 'b',

    /// <summary><c>B</c>: RFC 4648 base32, uppercase, no padding.</summary>
    Base32Upper = 'B',

    /// <summary><c>k</c>: base36, lowercase.</summary>
    Base36Lower = 'k',

    /// <summary><c>K</c>: base36, uppercase.</summary>
    Base36Upper = 'K',

    /// <summary><c>z</c>: base58 with the Bitcoin alphabet (peer ids, CIDv0).</summary>
    Base58Btc = 'z',

    /// <summary><c>m</c>: RFC 4648 base64, no padding.</summary>
    Base64 = 'm',

    /// <summary><c>u</c>: RFC 4648 base64url, no padding (certhash).</summary>
    Base64Url = 'u',
}

/// <summary>Multibase: a one-character prefix naming the encoding, then the encoded bytes.</summary>
public static class Multibase
{
    private const string Base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private const string Base32LowerAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
    private const string Base36LowerAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";

    /// <summary>Encodes <paramref name="data"/> with the prefix of <paramref name="encoding"/>.</summary>
    public static string Encode(MultibaseEncoding encoding, ReadOnlySpan<byte> data) =>
        (char)encoding + EncodeRaw(encoding, data);

    /// <summary>Decodes a prefixed multibase string.</summary>
    /// <exception cref="WireFormatException">Empty, unknown prefix, or a character outside the alphabet.</exception>
    public static byte[] Decode(string text) => Decode(text, out _);

    /// <summary>Decodes a prefixed multibase string and reports which encoding it used.</summary>
    /// <exception cref="WireFormatException">Empty, unknown prefix, or a character outside the alphabet.</exception>
    public static byte[] Decode(string text, out MultibaseEncoding encoding)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
        {
            throw new WireFormatException("multibase string is empty");
        }

        encoding = (MultibaseEncoding)text[0];
        if (!Enum.IsDefined(encoding))
        {
            throw new WireFormatException($"unsupported multibase prefix '{text[0]}'");
        }

        return DecodeRaw(encoding, text.AsSpan(1));
    }

    /// <summary>Encodes without the prefix character.</summary>
    public static string EncodeRaw(MultibaseEncoding encoding, ReadOnlySpan<byte> data) => encoding switch
    {
        MultibaseEncoding.Base16Lower => Convert.ToHexStringLower(data),
        MultibaseEncoding.Base16Upper => Convert.ToHexString(data),
        MultibaseEncoding.Base32Lower => EncodeBase32(data),
        MultibaseEncoding.Base32Upper => EncodeBase32(data).ToUpperInvariant(),
        MultibaseEncoding.Base36Lower => EncodeBaseX(data, Base36LowerAlphabet),
        MultibaseEncoding.Base36Upper => EncodeBaseX(data, Base36LowerAlphabet).ToUpperInvariant(),
        MultibaseEncoding.Base58Btc => EncodeBaseX(data, Base58Alphabet),
        MultibaseEncoding.Base64 => Convert.ToBase64String(data).TrimEnd('='),
        MultibaseEncoding.Base64Url => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
    };

    /// <summary>Decodes text that carries no prefix character.</summary>
    /// <exception cref="WireFormatException">A character outside the alphabet or an impossible length.</exception>
    public static byte[] DecodeRaw(MultibaseEncoding encoding, ReadOnlySpan<char> text) => encoding switch
    {
        MultibaseEncoding.Base16Lower or MultibaseEncoding.Base16Upper => DecodeBase16(text),
        MultibaseEncoding.Base32Lower or MultibaseEncoding.Base32Upper => DecodeBase32(text),
        MultibaseEncoding.Base36Lower or MultibaseEncoding.Base36Upper => DecodeBaseX(text, Base36LowerAlphabet, ignoreCase: true),
        MultibaseEncoding.Base58Btc => DecodeBaseX(text, Base58Alphabet, ignoreCase: false),
        MultibaseEncoding.Base64 => DecodeBase64(text, urlSafe: false),
        MultibaseEncoding.Base64Url => DecodeBase64(text, urlSafe: true),
        _ => throw new WireFormatException($"unsupported multibase encoding '{(char)encoding}'"),
    };

    /// <summary>Base58btc without prefix, the form of <c>Qm…</c> and <c>12D3KooW…</c> peer ids.</summary>
    public static string EncodeBase58Btc(ReadOnlySpan<byte> data) => EncodeBaseX(data, Base58Alphabet);

    /// <summary>Decodes base58btc text without prefix.</summary>
    /// <exception cref="WireFormatException">A character outside the base58btc alphabet.</exception>
    public static byte[] DecodeBase58Btc(ReadOnlySpan<char> text) => DecodeBaseX(text, Base58Alphabet, ignoreCase: false);

    private static string EncodeBase32(ReadOnlySpan<byte> data)
    {
        var builder = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                builder.Append(Base32LowerAlphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            builder.Append(Base32LowerAlphabet[(buffer << (5 - bits)) & 31]);
        }

        return builder.ToString();
    }

    private static byte[] DecodeBase32(ReadOnlySpan<char> text)
    {
        text = text.TrimEnd('=');
        var remainder = text.Length % 8;
        if (remainder is 1 or 3 or 6)
        {
            throw new WireFormatException("base32 text has an impossible length");
        }

        var output = new byte[text.Length * 5 / 8];
        int buffer = 0, bits = 0, index = 0;
        foreach (var c in text)
        {
            var value = c switch
            {
                >= 'a' and <= 'z' => c - 'a',
                >= 'A' and <= 'Z' => c - 'A',
                >= '2' and <= '7' => c - '2' + 26,
                _ => throw new WireFormatException($"'{c}' is not a base32 character"),
            };
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                output[index++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
        }

        return output;
    }

    private static byte[] DecodeBase16(ReadOnlySpan<char> text)
    {
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException e)
        {
            throw new WireFormatException("invalid base16 text", e);
        }
    }

    private static byte[] DecodeBase64(ReadOnlySpan<char> text, bool urlSafe)
    {
        if (text.Length % 4 == 1)
        {
            throw new WireFormatException("base64 text has an impossible length");
        }

        var padded = new char[(text.Length + 3) / 4 * 4];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (urlSafe)
            {
                c = c switch
                {
                    '-' => '+',
                    '_' => '/',
                    '+' or '/' => throw new WireFormatException($"'{c}' is not a base64url character"),
                    _ => c,
                };
            }
            else if (c is '-' or '_')
            {
                throw new WireFormatException($"'{c}' is not a base64 character");
            }

            padded[i] = c;
        }

        padded.AsSpan(text.Length).Fill('=');
        try
        {
            return Convert.FromBase64CharArray(padded, 0, padded.Length);
        }
        catch (FormatException e)
        {
            throw new WireFormatException("invalid base64 text", e);
        }
    }

    private static string EncodeBaseX(ReadOnlySpan<byte> data, string alphabet)
    {
        var leadingZeros = 0;
        while (leadingZeros < data.Length && data[leadingZeros] == 0)
        {
            leadingZeros++;
        }

        var value = new BigInteger(data[leadingZeros..], isUnsigned: true, isBigEndian: true);
        var radix = alphabet.Length;
        var digits = new StringBuilder();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, radix, out var digit);
            digits.Append(alphabet[(int)digit]);
        }

        digits.Append(alphabet[0], leadingZeros);
        var chars = digits.ToString().ToCharArray();
        Array.Reverse(chars);
        return new string(chars);
    }

    private static byte[] DecodeBaseX(ReadOnlySpan<char> text, string alphabet, bool ignoreCase)
    {
        var leadingZeros = 0;
        while (leadingZeros < text.Length && text[leadingZeros] == alphabet[0])
        {
            leadingZeros++;
        }

        var radix = alphabet.Length;
        var value = BigInteger.Zero;
        foreach (var c in text[leadingZeros..])
        {
            var digit = alphabet.IndexOf(ignoreCase ? char.ToLowerInvariant(c) : c, StringComparison.Ordinal);
            if (digit < 0)
            {
                throw new WireFormatException($"'{c}' is not a base{radix} character");
            }

            value = value * radix + digit;
        }

        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var output = new byte[leadingZeros + body.Length];
        body.CopyTo(output, leadingZeros);
        return output;
    }
}
