using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// Imports remote-controlled DER key bytes with System.Security.Cryptography: bounded, whole input consumed,
/// optionally canonical (re-exports to the same bytes), and every failure the platform reports
/// (CryptographicException, ASN.1 errors, PlatformNotSupportedException for a curve it does not know) turned into the <see cref="WireFormatException"/> callers handle.
/// </summary>
internal static class KeyImport
{
    /// <summary>Imports <paramref name="data"/> into <paramref name="algorithm"/> (which this disposes) and builds the key.</summary>
    /// <param name="what">Names the key in error messages, e.g. "RSA public key".</param>
    /// <param name="data">The DER bytes.</param>
    /// <param name="algorithm">A fresh algorithm instance to import into.</param>
    /// <param name="import">The import call; returns the bytes it read.</param>
    /// <param name="build">Makes the key from the imported algorithm.</param>
    /// <param name="reexport">When given, the import must re-export to exactly <paramref name="data"/>.</param>
    public static TKey Import<TAlgorithm, TKey>(
        string what,
        ReadOnlySpan<byte> data,
        TAlgorithm algorithm,
        ImportFunc<TAlgorithm> import,
        Func<TAlgorithm, TKey> build,
        Func<TAlgorithm, byte[]>? reexport = null)
        where TAlgorithm : AsymmetricAlgorithm
    {
        using (algorithm)
        {
            if (data.Length > KeyProtobuf.MaxLength)
            {
                throw new WireFormatException($"{what} of {data.Length} bytes exceeds {KeyProtobuf.MaxLength}");
            }

            try
            {
                var read = import(algorithm, data);
                if (read != data.Length)
                {
                    throw new WireFormatException($"{what} has {data.Length - read} trailing bytes");
                }

                if (reexport is not null && !reexport(algorithm).AsSpan().SequenceEqual(data))
                {
                    throw new WireFormatException($"{what} is not in canonical DER form");
                }

                return build(algorithm);
            }
            catch (Exception e) when (e is CryptographicException or AsnContentException or PlatformNotSupportedException)
            {
                throw new WireFormatException($"{what} is malformed: {e.Message}", e);
            }
        }
    }

    /// <summary>An import of key bytes into an algorithm instance; returns the number of bytes read.</summary>
    public delegate int ImportFunc<in TAlgorithm>(TAlgorithm algorithm, ReadOnlySpan<byte> data);
}
