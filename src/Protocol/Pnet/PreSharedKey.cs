using System.Security.Cryptography;
using System.Text;

namespace ToolNet.Protocol.Pnet;

/// <summary>
/// The 256-bit secret of a libp2p private network (libp2p/specs pnet, "Interface"), and its key file: the path-based
/// multicodec <c>/key/swarm/psk/1.0.0/</c>, then a base encoding (<c>/base16/</c>, <c>/base64/</c> or <c>/bin/</c>),
/// then the 32 bytes, one item per line, as go-libp2p's and js-libp2p's <c>swarm.key</c> files are written.
/// </summary>
public sealed class PreSharedKey
{
    /// <summary>The key length the spec requires.</summary>
    public const int Length = 32;

    /// <summary>The first line of a key file.</summary>
    public const string Codec = "/key/swarm/psk/1.0.0/";

    /// <summary>Key files are a few lines; anything much longer is not one.</summary>
    private const int MaxFileLength = 1024;

    private readonly byte[] _key;

    private PreSharedKey(byte[] key)
    {
        _key = key;
    }

    /// <summary>The secret itself.</summary>
    public ReadOnlySpan<byte> Key => _key;

    /// <summary>A short, non-secret name of the key for logs and errors: the first 8 bytes of SHA-256 of the key,
    /// in hex. Two nodes with different fingerprints cannot talk.</summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(_key).AsSpan(0, 8));

    /// <summary>A fresh random key.</summary>
    public static PreSharedKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>The key from 32 bytes.</summary>
    public static PreSharedKey FromBytes(ReadOnlySpan<byte> key) =>
        key.Length == Length ? new PreSharedKey(key.ToArray()) : throw new ArgumentException($"a private network key is {Length} bytes, not {key.Length}", nameof(key));

    /// <summary>Parses the contents of a key file.</summary>
    /// <exception cref="FormatException">Not a <c>/key/swarm/psk/1.0.0/</c> file, an unknown encoding, or not 32 bytes;
    /// the message says which.</exception>
    public static PreSharedKey Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length > MaxFileLength)
        {
            throw new FormatException($"a private network key file is a few lines, not {file.Length} bytes");
        }

        var codec = NextLine(file, out var rest);
        if (!codec.SequenceEqual(Encoding.ASCII.GetBytes(Codec)))
        {
            throw new FormatException($"a private network key file starts with the line {Codec}");
        }

        var encoding = NextLine(rest, out var body);
        var encodingName = Encoding.ASCII.GetString(encoding);
        var key = encodingName switch
        {
            "/base16/" => DecodeText(body, Convert.FromHexString, "base16"),
            "/base64/" => DecodeText(body, Convert.FromBase64String, "base64"),
            "/bin/" => body.ToArray(),
            _ => throw new FormatException($"unknown key encoding '{encodingName}' (expected /base16/, /base64/ or /bin/)"),
        };

        return key.Length == Length ? new PreSharedKey(key) : throw new FormatException($"the key is {key.Length} bytes; a private network key is {Length}");
    }

    /// <summary>Reads a key file.</summary>
    /// <exception cref="FormatException">The file is not a valid key file; the message names the file.</exception>
    public static async Task<PreSharedKey> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        try
        {
            return Parse(bytes);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>The key file for this key, base16 encoded.</summary>
    public string ToFileText() => $"{Codec}\n/base16/\n{Convert.ToHexStringLower(_key)}\n";

    /// <summary>Never the secret.</summary>
    public override string ToString() => $"private network key {Fingerprint}";

    private static byte[] DecodeText(ReadOnlySpan<byte> body, Func<string, byte[]> decode, string encoding)
    {
        try
        {
            return decode(Encoding.ASCII.GetString(NextLine(body, out _)).Trim());
        }
        catch (FormatException ex)
        {
            throw new FormatException($"the key is not valid {encoding}: {ex.Message}", ex);
        }
    }

    private static ReadOnlySpan<byte> NextLine(ReadOnlySpan<byte> text, out ReadOnlySpan<byte> rest)
    {
        var end = text.IndexOf((byte)'\n');
        rest = end < 0 ? [] : text[(end + 1)..];
        return (end < 0 ? text : text[..end]).TrimEnd((byte)'\r');
    }
}
