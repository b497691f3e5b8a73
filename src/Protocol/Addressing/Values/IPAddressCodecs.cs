using System.Globalization;
using System.Text;

namespace ToolNet.Protocol.Addressing;

/// <summary>A fixed-size IP address: every bit pattern is valid; subclasses read and write the text.</summary>
internal abstract class IPAddressCodec(int length, string family) : MultiaddrValueCodec
{
    public override void Validate(ReadOnlySpan<byte> value)
    {
        // Any bytes of the fixed length are an address.
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        var bytes = new byte[length];
        if (!TryParseText(text, bytes))
        {
            throw new WireFormatException($"'{MultiaddrText.Shorten(text)}' is not an {family} address");
        }

        return bytes;
    }

    protected abstract bool TryParseText(ReadOnlySpan<char> text, Span<byte> destination);
}

/// <summary><c>/ip4</c>: dotted-quad text. Strict: exactly four decimal octets, no leading zeros (which some
/// parsers read as octal), no other IPv4 spellings that <see cref="System.Net.IPAddress.Parse(string)"/> accepts.</summary>
internal sealed class IPv4Codec() : IPAddressCodec(4, "IPv4")
{
    public static IPv4Codec Instance { get; } = new();

    public override string Format(ReadOnlySpan<byte> value) =>
        string.Create(CultureInfo.InvariantCulture, $"{value[0]}.{value[1]}.{value[2]}.{value[3]}");

    protected override bool TryParseText(ReadOnlySpan<char> text, Span<byte> destination) => TryParse(text, destination);

    /// <summary>Parses <c>a.b.c.d</c> into four bytes.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var i = 0;
        for (var octet = 0; octet < 4; octet++)
        {
            if (octet > 0)
            {
                if (i == text.Length || text[i] != '.')
                {
                    return false;
                }

                i++;
            }

            var start = i;
            var value = 0;
            while (i < text.Length && i - start < 3 && char.IsAsciiDigit(text[i]))
            {
                value = value * 10 + (text[i] - '0');
                i++;
            }

            var digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            destination[octet] = (byte)value;
        }

        return i == text.Length;
    }
}

/// <summary>
/// <c>/ip6</c>: RFC 4291 §2.2 text on input (hex groups, one <c>::</c>, an optional dotted-quad tail); RFC 5952
/// canonical text on output: lowercase, no leading zeros, the longest run of two or more zero groups (the first of
/// equal runs) written as <c>::</c>, and IPv4-mapped addresses as <c>::ffff:a.b.c.d</c>, the form go-multiaddr prints.
/// Zones are not part of the value (they are <c>/ip6zone</c>), and a bare IPv4 address is not accepted.
/// </summary>
internal sealed class IPv6Codec() : IPAddressCodec(16, "IPv6")
{
    private const int GroupCount = 8;

    public static IPv6Codec Instance { get; } = new();

    public override string Format(ReadOnlySpan<byte> value)
    {
        if (!value[..10].ContainsAnyExcept((byte)0) && value[10] == 0xff && value[11] == 0xff)
        {
            return "::ffff:" + IPv4Codec.Instance.Format(value[12..]);
        }

        Span<int> groups = stackalloc int[GroupCount];
        for (var i = 0; i < GroupCount; i++)
        {
            groups[i] = (value[2 * i] << 8) | value[(2 * i) + 1];
        }

        int bestStart = -1, bestLength = 1;
        for (var i = 0; i < GroupCount;)
        {
            var run = 0;
            while (i + run < GroupCount && groups[i + run] == 0)
            {
                run++;
            }

            if (run > bestLength)
            {
                bestStart = i;
                bestLength = run;
            }

            i += Math.Max(run, 1);
        }

        var text = new StringBuilder(39);
        for (var i = 0; i < GroupCount; i++)
        {
            if (i == bestStart)
            {
                text.Append("::");
                i += bestLength - 1;
                continue;
            }

            if (text.Length > 0 && text[^1] != ':')
            {
                text.Append(':');
            }

            text.Append(groups[i].ToString("x", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    protected override bool TryParseText(ReadOnlySpan<char> text, Span<byte> destination) => TryParse(text, destination);

    /// <summary>Parses RFC 4291 text into sixteen bytes.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, Span<byte> destination)
    {
        // The longest spelling is eight groups of four digits, or six groups and a dotted quad: 45 characters.
        if (text.Length is < 2 or > 45)
        {
            return false;
        }

        Span<int> groups = stackalloc int[GroupCount];
        int count = 0, ellipsis = -1, i = 0;
        if (text.StartsWith("::"))
        {
            ellipsis = 0;
            i = 2;
        }

        while (i < text.Length)
        {
            var start = i;
            var value = 0;
            while (i < text.Length && i - start < 4 && char.IsAsciiHexDigit(text[i]))
            {
                value = (value << 4) | HexDigitValue(text[i]);
                i++;
            }

            if (i < text.Length && text[i] == '.')
            {
                // A dotted-quad tail fills the last two groups.
                Span<byte> tail = stackalloc byte[4];
                if (count > GroupCount - 2 || !IPv4Codec.TryParse(text[start..], tail))
                {
                    return false;
                }

                groups[count++] = (tail[0] << 8) | tail[1];
                groups[count++] = (tail[2] << 8) | tail[3];
                break;
            }

            if (i == start || count == GroupCount)
            {
                return false;
            }

            groups[count++] = value;
            if (i == text.Length)
            {
                break;
            }

            if (text[i] != ':' || ++i == text.Length)
            {
                return false;
            }

            if (text[i] == ':')
            {
                if (ellipsis >= 0)
                {
                    return false;
                }

                ellipsis = count;
                i++;
            }
        }

        if (ellipsis < 0 ? count != GroupCount : count == GroupCount)
        {
            // Without "::" all eight groups are needed; with it, "::" must stand for at least one group.
            return false;
        }

        var fill = GroupCount - count;
        for (int source = 0, target = 0; source < count; source++, target++)
        {
            if (source == ellipsis)
            {
                target += fill;
            }

            destination[2 * target] = (byte)(groups[source] >> 8);
            destination[(2 * target) + 1] = (byte)groups[source];
        }

        if (ellipsis >= 0)
        {
            destination.Slice(2 * ellipsis, 2 * fill).Clear();
        }

        return true;
    }

    private static int HexDigitValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
