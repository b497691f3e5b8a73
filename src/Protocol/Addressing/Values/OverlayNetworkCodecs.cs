using System.Buffers.Binary;
using System.Globalization;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// <c>/onion</c> and <c>/onion3</c>: a Tor onion service as <c>host:port</c>, where host is the base32 service id
/// without <c>.onion</c> (16 characters for 10 bytes, or 56 for 35) and port is 1 to 65535. Binary: host bytes, then
/// the port big-endian. Host case is ignored on input and printed lowercase.
/// </summary>
internal sealed class OnionCodec : MultiaddrValueCodec
{
    private readonly int _hostLength;

    private OnionCodec(int hostLength) => _hostLength = hostLength;

    public static OnionCodec Version2 { get; } = new(10);

    public static OnionCodec Version3 { get; } = new(35);

    // Both host sizes are whole multiples of 5 bytes, so the base32 text has no padding and no spare bits.
    private int HostTextLength => _hostLength / 5 * 8;

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (BinaryPrimitives.ReadUInt16BigEndian(value[_hostLength..]) == 0)
        {
            throw new WireFormatException("onion port must be 1 to 65535");
        }
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        var colon = text.IndexOf(':');
        if (colon < 0)
        {
            throw new WireFormatException("onion address must be host:port");
        }

        var host = text[..colon];
        if (host.Length != HostTextLength || host.ContainsAnyExcept(Base32Characters))
        {
            throw new WireFormatException($"onion host must be {HostTextLength} base32 characters");
        }

        var port = MultiaddrText.ParseDecimal(text[(colon + 1)..], ushort.MaxValue);
        var value = new byte[_hostLength + 2];
        Multibase.DecodeRaw(MultibaseEncoding.Base32Lower, host).CopyTo(value, 0);
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(_hostLength), (ushort)port);
        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value) =>
        Multibase.EncodeRaw(MultibaseEncoding.Base32Lower, value[.._hostLength]) + ":" +
        BinaryPrimitives.ReadUInt16BigEndian(value[_hostLength..]).ToString(CultureInfo.InvariantCulture);

    private static readonly System.Buffers.SearchValues<char> Base32Characters =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
}

/// <summary>
/// <c>/garlic64</c>: a full I2P destination, written in I2P's base64 (RFC 4648 base64 with <c>-</c> and <c>~</c>
/// for <c>+</c> and <c>/</c>, padded with <c>=</c>). Destinations are 386 bytes or more (a 256-byte encryption key,
/// a 128-byte signing key and a certificate of at least 3 bytes); the text form is at most 616 characters.
/// </summary>
internal sealed class Garlic64Codec : MultiaddrValueCodec
{
    public const int MinLength = 386;
    public const int MaxTextLength = 616;
    public const int MaxLength = MaxTextLength / 4 * 3;

    private static readonly System.Buffers.SearchValues<char> Alphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~");

    public static Garlic64Codec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (value.Length is < MinLength or > MaxLength)
        {
            throw new WireFormatException($"I2P destination must be {MinLength} to {MaxLength} bytes, not {value.Length}");
        }
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        var unpadded = text.TrimEnd('=');
        if (text.Length % 4 != 0 || text.Length - unpadded.Length > 2 || text.Length > MaxTextLength || unpadded.ContainsAnyExcept(Alphabet))
        {
            throw new WireFormatException("not an I2P base64 destination");
        }

        var standard = unpadded.ToString().Replace('-', '+').Replace('~', '/');
        var value = Multibase.DecodeRaw(MultibaseEncoding.Base64, standard);
        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value) => Convert.ToBase64String(value).Replace('+', '-').Replace('/', '~');
}

/// <summary>
/// <c>/garlic32</c>: an I2P destination hash in lowercase unpadded base32: 32 bytes (52 characters), or 35 bytes
/// and more for an encrypted leaseset v2 address.
/// </summary>
internal sealed class Garlic32Codec : MultiaddrValueCodec
{
    private static readonly System.Buffers.SearchValues<char> Alphabet =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz234567");

    public static Garlic32Codec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        if (value.Length != 32 && value.Length < 35)
        {
            throw new WireFormatException($"I2P base32 address must be 32 bytes or at least 35, not {value.Length}");
        }
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        if (text.ContainsAnyExcept(Alphabet))
        {
            throw new WireFormatException("I2P base32 address must be lowercase base32 without padding");
        }

        var value = Multibase.DecodeRaw(MultibaseEncoding.Base32Lower, text);
        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value) => Multibase.EncodeRaw(MultibaseEncoding.Base32Lower, value);
}
