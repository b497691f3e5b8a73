using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// Reads and writes HTTP/1.1 message heads (RFC 9112 sections 2-5): a start line, header fields, and the empty line.
/// Pure and bounded: a head longer than <see cref="MaxHeadLength"/> bytes or with more than
/// <see cref="MaxHeaderCount"/> header fields is rejected before anything is allocated for it.
/// </summary>
/// <remarks>
/// Strict where RFC 9112 lets a recipient choose: lines end in CRLF (a bare CR or LF is rejected), whitespace
/// between a field name and its colon is rejected (section 5.1), and so is obs-fold line folding (section 5.2
/// allows a server to reject it with 400). Every rejection is a <see cref="WireFormatException"/>.
/// </remarks>
public static class HttpHeadCodec
{
    /// <summary>The longest head accepted, start line and final empty line included: 8 KiB.</summary>
    public const int MaxHeadLength = 8 * 1024;

    /// <summary>The most header fields accepted in one head.</summary>
    public const int MaxHeaderCount = 64;

    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    /// <summary>
    /// Reads a request head from the start of <paramref name="input"/> and, when it is complete, advances
    /// <paramref name="input"/> past it (what follows is the start of the body or of another protocol). Returns false,
    /// leaving <paramref name="input"/> as it was, when the head is not complete yet.
    /// </summary>
    /// <exception cref="WireFormatException">The head is malformed, or <see cref="MaxHeadLength"/> bytes have arrived
    /// without it ending.</exception>
    public static bool TryReadRequest(ref ReadOnlySequence<byte> input, [NotNullWhen(true)] out HttpRequestHead? head) =>
        TryReadRequest(ref input, MaxHeadLength, out head);

    /// <summary>Reads a response head, as <see cref="TryReadRequest(ref ReadOnlySequence{byte}, out HttpRequestHead?)"/>.</summary>
    /// <exception cref="WireFormatException">The head is malformed or too long.</exception>
    public static bool TryReadResponse(ref ReadOnlySequence<byte> input, [NotNullWhen(true)] out HttpResponseHead? head) =>
        TryReadResponse(ref input, MaxHeadLength, out head);

    /// <summary>Writes <paramref name="head"/>: request line, one <c>Name: value</c> line per header field, empty line.</summary>
    public static void Write(IBufferWriter<byte> writer, HttpRequestHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        Write(writer, $"{head.Method} {head.Target} {head.Version}", head);
    }

    /// <summary>Writes <paramref name="head"/>: status line, one <c>Name: value</c> line per header field, empty line.</summary>
    public static void Write(IBufferWriter<byte> writer, HttpResponseHead head)
    {
        ArgumentNullException.ThrowIfNull(head);
        Write(writer, string.Create(CultureInfo.InvariantCulture, $"{head.Version} {head.StatusCode} {head.ReasonPhrase}"), head);
    }

    /// <summary>The request reader with another length bound (the fuzz target re-reads written heads, which may be a
    /// little longer than what was read: whitespace is normalised).</summary>
    internal static bool TryReadRequest(ref ReadOnlySequence<byte> input, int maxHeadLength, [NotNullWhen(true)] out HttpRequestHead? head)
    {
        head = TryTakeHead(input, maxHeadLength, out var lines, out var length) ? ParseRequest(lines) : null;
        input = head is null ? input : input.Slice(length);
        return head is not null;
    }

    /// <summary>The response reader with another length bound.</summary>
    internal static bool TryReadResponse(ref ReadOnlySequence<byte> input, int maxHeadLength, [NotNullWhen(true)] out HttpResponseHead? head)
    {
        head = TryTakeHead(input, maxHeadLength, out var lines, out var length) ? ParseResponse(lines) : null;
        input = head is null ? input : input.Slice(length);
        return head is not null;
    }

    /// <summary>Finds the end of the head within the bound and splits it into lines (without their CRLF).</summary>
    private static bool TryTakeHead(ReadOnlySequence<byte> input, int maxHeadLength, [NotNullWhen(true)] out string[]? lines, out long length)
    {
        lines = null;
        length = 0;
        var reader = new SequenceReader<byte>(input.Slice(0, Math.Min(input.Length, maxHeadLength)));
        if (!reader.TryReadTo(out ReadOnlySequence<byte> _, EndOfHead, advancePastDelimiter: true))
        {
            return input.Length >= maxHeadLength
                ? throw new WireFormatException($"the HTTP head did not end within {maxHeadLength} bytes")
                : false;
        }

        length = reader.Consumed;

        // Latin-1 maps each byte to the character of the same value, so the text is the bytes, and character
        // checks below are byte checks.
        var text = Encoding.Latin1.GetString(input.Slice(0, length - EndOfHead.Length));
        lines = text.Split("\r\n");
        if (lines.Length - 1 > MaxHeaderCount)
        {
            throw new WireFormatException($"the HTTP head has {lines.Length - 1} header fields, over the {MaxHeaderCount} limit");
        }

        return true;
    }

    private static HttpRequestHead ParseRequest(string[] lines)
    {
        // request-line = method SP request-target SP HTTP-version (RFC 9112 section 3)
        var line = lines[0];
        var first = line.IndexOf(' ', StringComparison.Ordinal);
        var last = line.LastIndexOf(' ');
        if (first <= 0 || last == first)
        {
            throw new WireFormatException($"the request line '{Shorten(line)}' is not METHOD TARGET VERSION");
        }

        var method = line[..first];
        var target = line[(first + 1)..last];
        var version = line[(last + 1)..];
        if (!HttpSyntax.IsToken(method))
        {
            throw new WireFormatException($"the request method '{Shorten(method)}' is not a token");
        }

        if (!HttpSyntax.IsRequestTarget(target))
        {
            throw new WireFormatException($"the request target '{Shorten(target)}' is empty or has whitespace or control characters");
        }

        CheckVersion(version);
        return new HttpRequestHead(method, target, ParseHeaders(lines), version);
    }

    private static HttpResponseHead ParseResponse(string[] lines)
    {
        // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 section 4); a missing second
        // space before an empty reason is accepted, as section 4 advises.
        var line = lines[0];
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0)
        {
            throw new WireFormatException($"the status line '{Shorten(line)}' is not VERSION CODE REASON");
        }

        CheckVersion(line[..space]);
        var rest = line.AsSpan(space + 1);
        if (rest.Length < 3 || rest[0] is < '1' or > '9' || !char.IsAsciiDigit(rest[1]) || !char.IsAsciiDigit(rest[2])
            || (rest.Length > 3 && rest[3] != ' '))
        {
            throw new WireFormatException($"the status line '{Shorten(line)}' has no three-digit status code");
        }

        var reason = rest.Length > 3 ? rest[4..].ToString() : string.Empty;
        if (!HttpSyntax.IsReasonPhrase(reason))
        {
            throw new WireFormatException("the reason phrase has a control character");
        }

        var code = ((rest[0] - '0') * 100) + ((rest[1] - '0') * 10) + (rest[2] - '0');
        return new HttpResponseHead(code, reason, ParseHeaders(lines), line[..space]);
    }

    private static List<HttpHeaderField> ParseHeaders(string[] lines)
    {
        var headers = new List<HttpHeaderField>(lines.Length - 1);
        for (var i = 1; i < lines.Length; i++)
        {
            // field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5)
            var line = lines[i];
            if (line.Length > 0 && HttpSyntax.IsWhitespace(line[0]))
            {
                throw new WireFormatException($"header line {i} is folded onto the previous one (obs-fold)");
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                throw new WireFormatException($"header line {i} '{Shorten(line)}' has no colon");
            }

            var name = line[..colon];
            if (!HttpSyntax.IsToken(name))
            {
                throw new WireFormatException($"header line {i} has an invalid field name '{Shorten(name)}'");
            }

            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (!HttpSyntax.IsFieldValue(value))
            {
                throw new WireFormatException($"the value of header field '{Shorten(name)}' has a control character");
            }

            headers.Add(new HttpHeaderField(name, value));
        }

        return headers;
    }

    private static void CheckVersion(string version)
    {
        if (!HttpSyntax.IsVersion(version))
        {
            throw new WireFormatException($"'{Shorten(version)}' is not an HTTP version of the form HTTP/d.d");
        }
    }

    private static void Write(IBufferWriter<byte> writer, string startLine, HttpMessageHead head)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var text = new StringBuilder(startLine.Length + 2 + (head.Headers.Length * 32) + 2);
        text.Append(startLine).Append("\r\n");
        foreach (var (name, value) in head.Headers)
        {
            text.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        text.Append("\r\n");
        Encoding.Latin1.GetBytes(text.ToString(), writer);
    }

    /// <summary>A piece of untrusted text for an error message: at most 40 characters, control characters escaped.</summary>
    private static string Shorten(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        var escaped = new StringBuilder(shown.Length);
        foreach (var c in shown)
        {
            if (c is < ' ' or (char)0x7F)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}
