using System.Text;

namespace ToolNet.Protocol.Addressing;

/// <summary>A value that is UTF-8 text written as itself; subclasses say which texts are valid.</summary>
internal abstract class Utf8TextCodec : MultiaddrValueCodec
{
    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        var bytes = MultiaddrText.EncodeUtf8(text);
        Validate(bytes);
        return bytes;
    }

    public override string Format(ReadOnlySpan<byte> value) => MultiaddrText.DecodeUtf8(value);
}

/// <summary>
/// A name: <c>dns</c>, <c>dns4</c>, <c>dns6</c>, <c>dnsaddr</c>, <c>sni</c>, <c>ip6zone</c>. Non-empty, at most
/// <see cref="MaxLength"/> bytes of UTF-8, and no <c>/</c> (the text form could not carry it).
/// </summary>
internal sealed class NameCodec : Utf8TextCodec
{
    /// <summary>The longest name accepted: a DNS name is at most 255 octets on the wire (RFC 1035 §2.3.4).</summary>
    public const int MaxLength = 255;

    public static NameCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            throw new WireFormatException("name is empty");
        }

        if (value.Length > MaxLength)
        {
            throw new WireFormatException($"name is {value.Length} bytes, over the {MaxLength}-byte limit");
        }

        if (value.Contains((byte)'/'))
        {
            throw new WireFormatException("name contains '/'");
        }

        MultiaddrText.RequireUtf8(value);
    }
}

/// <summary>
/// <c>/unix</c>, a path protocol: in the text form the value is the rest of the string (<c>/unix/tmp/a.sock</c> is
/// the path <c>/tmp/a.sock</c>), and the binary value is that UTF-8 path including its leading <c>/</c>, as
/// go-multiaddr encodes it. Only paths the text form can carry are valid: at least one character after the leading
/// <c>/</c> and no trailing <c>/</c> (a trailing slash ends the text form).
/// </summary>
/// <remarks>
/// multiformats/multiaddr <c>protocols/unix.md</c> (2025) instead percent-encodes the path as one segment; the go-multiaddr
/// vectors this build is checked against use the path form above, so that is what ToolNet reads and writes.
/// </remarks>
internal sealed class UnixPathCodec : Utf8TextCodec
{
    public static UnixPathCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2 || value[0] != '/' || value[^1] == '/')
        {
            throw new WireFormatException("unix path must start with '/', not end with '/', and name something");
        }

        MultiaddrText.RequireUtf8(value);
    }
}

/// <summary>
/// <c>/http-path</c>: arbitrary non-empty bytes, written as one percent-encoded URI path segment
/// (multiformats/multiaddr <c>protocols/httppath.md</c>: RFC 3986 §3.3 <c>segment-nz</c>). Input accepts any
/// character but <c>/</c>, with <c>%XX</c> escapes; output escapes every byte except letters, digits and
/// <c>-._~$&amp;+:=@</c>, with uppercase hex, the same text go-multiaddr prints.
/// </summary>
internal sealed class PercentEncodedCodec : MultiaddrValueCodec
{
    public static PercentEncodedCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            throw new WireFormatException("http-path is empty");
        }
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        // Each character becomes at most three UTF-8 bytes; each escape (three characters) one byte.
        var buffer = new byte[text.Length * 3];
        var length = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    throw new WireFormatException($"'%' at character {i} is not followed by two hex digits");
                }

                buffer[length++] = Convert.FromHexString(text.Slice(i + 1, 2))[0];
                i += 3;
                continue;
            }

            var run = text[i..];
            var nextEscape = run.IndexOf('%');
            if (nextEscape >= 0)
            {
                run = run[..nextEscape];
            }

            var bytes = MultiaddrText.EncodeUtf8(run);
            bytes.CopyTo(buffer, length);
            length += bytes.Length;
            i += run.Length;
        }

        var value = buffer.AsSpan(0, length).ToArray();
        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value)
    {
        var text = new StringBuilder(value.Length * 3);
        foreach (var b in value)
        {
            if (char.IsAsciiLetterOrDigit((char)b) || "-._~$&+:=@".Contains((char)b, StringComparison.Ordinal))
            {
                text.Append((char)b);
            }
            else
            {
                text.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return text.ToString();
    }
}
