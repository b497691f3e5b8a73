using System.Globalization;
using System.Text;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// Converts one protocol's value between its binary and text forms. Every codec keeps one invariant, which the
/// property tests and fuzz targets check: a value <see cref="Validate"/> accepts formats to text that
/// <see cref="Parse"/> turns back into the same bytes, and <see cref="Parse"/> only returns values
/// <see cref="Validate"/> accepts.
/// </summary>
internal abstract class MultiaddrValueCodec
{
    /// <summary>Checks a binary value whose length already fits the protocol's layout.</summary>
    /// <exception cref="WireFormatException">The value is not valid for the protocol.</exception>
    public abstract void Validate(ReadOnlySpan<byte> value);

    /// <summary>Parses the text form of a value (one path segment, or the rest of the string for a path protocol).</summary>
    /// <exception cref="WireFormatException">The text is not a valid value.</exception>
    public abstract byte[] Parse(ReadOnlySpan<char> text);

    /// <summary>Formats a value that <see cref="Validate"/> accepted, canonically.</summary>
    public abstract string Format(ReadOnlySpan<byte> value);
}

/// <summary>Small text helpers shared by the value codecs.</summary>
internal static class MultiaddrText
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>UTF-8 bytes of <paramref name="text"/>; an unpaired surrogate is a format error, not a silent U+FFFD.</summary>
    public static byte[] EncodeUtf8(ReadOnlySpan<char> text)
    {
        try
        {
            var bytes = new byte[StrictUtf8.GetByteCount(text)];
            StrictUtf8.GetBytes(text, bytes);
            return bytes;
        }
        catch (EncoderFallbackException e)
        {
            throw new WireFormatException("text contains an unpaired surrogate", e);
        }
    }

    /// <summary>Decodes UTF-8 that <see cref="RequireUtf8"/> already accepted.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> value) => Encoding.UTF8.GetString(value);

    /// <summary>Rejects bytes that are not well-formed UTF-8: text-valued protocols must print without loss.</summary>
    public static void RequireUtf8(ReadOnlySpan<byte> value)
    {
        if (!System.Text.Unicode.Utf8.IsValid(value))
        {
            throw new WireFormatException("value is not valid UTF-8");
        }
    }

    /// <summary>Parses an unsigned decimal of digits only (no sign, no spaces) not above <paramref name="maximum"/>.</summary>
    public static ulong ParseDecimal(ReadOnlySpan<char> text, ulong maximum)
    {
        if (text.IsEmpty || text.ContainsAnyExceptInRange('0', '9'))
        {
            throw new WireFormatException($"'{Shorten(text)}' is not an unsigned decimal number");
        }

        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > maximum)
        {
            throw new WireFormatException($"{Shorten(text)} is larger than {maximum}");
        }

        return value;
    }

    /// <summary>Rejects text outside printable ASCII: multibase text never needs it, and .NET's base64 decoder
    /// would otherwise skip whitespace.</summary>
    public static void RequirePrintableAscii(ReadOnlySpan<char> text)
    {
        if (text.ContainsAnyExceptInRange('!', '~'))
        {
            throw new WireFormatException("value contains a character outside printable ASCII");
        }
    }

    /// <summary>At most 64 characters of <paramref name="text"/>, for error messages.</summary>
    public static string Shorten(ReadOnlySpan<char> text) => text.Length <= 64 ? text.ToString() : string.Concat(text[..61], "...");
}
