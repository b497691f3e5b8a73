namespace ToolNet.Protocol.WebSocket;

/// <summary>The character classes of HTTP/1.1 message heads (RFC 9110 section 5.6.2, RFC 9112 sections 2-5).</summary>
internal static class HttpSyntax
{
    public const byte Space = (byte)' ';
    public const byte Tab = (byte)'\t';

    /// <summary>tchar: <c>!#$%&amp;'*+-.^_`|~</c>, digits and letters.</summary>
    public static bool IsTokenChar(int c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9'
            or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    /// <summary>field-vchar (VCHAR or obs-text), or a space or tab inside a value.</summary>
    public static bool IsFieldChar(int c) => c is Tab or >= 0x20 and <= 0x7E or >= 0x80 and <= 0xFF;

    public static bool IsToken(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    /// <summary>A field value as it is kept: field characters without leading or trailing whitespace.</summary>
    public static bool IsFieldValue(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!IsFieldChar(c))
            {
                return false;
            }
        }

        return text.IsEmpty || !(IsWhitespace(text[0]) || IsWhitespace(text[^1]));
    }

    /// <summary>A reason phrase: field characters, any whitespace.</summary>
    public static bool IsReasonPhrase(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!IsFieldChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A request target: one or more visible ASCII characters (URIs are ASCII; no spaces).</summary>
    public static bool IsRequestTarget(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < (char)0x21 or > (char)0x7E)
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    /// <summary><c>HTTP/</c> DIGIT <c>.</c> DIGIT.</summary>
    public static bool IsVersion(ReadOnlySpan<char> text) =>
        text.Length == 8 && text.StartsWith("HTTP/", StringComparison.Ordinal) && char.IsAsciiDigit(text[5]) && text[6] == '.' && char.IsAsciiDigit(text[7]);

    public static bool IsWhitespace(int c) => c is Space or Tab;
}
