using System.Formats.Asn1;
using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// Runs a System.Security.Cryptography import of remote-controlled key bytes and turns every failure the platform
/// reports (CryptographicException, ASN.1 errors) into the <see cref="WireFormatException"/> callers handle.
/// </summary>
internal static class KeyImport
{
    /// <summary>Runs <paramref name="import"/>, mapping platform parse failures to <see cref="WireFormatException"/>.</summary>
    public static T Run<T>(string what, ReadOnlySpan<byte> data, ImportFunc<T> import)
    {
        if (data.Length > KeyProtobuf.MaxLength)
        {
            throw new WireFormatException($"{what} of {data.Length} bytes exceeds {KeyProtobuf.MaxLength}");
        }

        try
        {
            return import(data);
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            throw new WireFormatException($"{what} is malformed: {e.Message}", e);
        }
    }

    /// <summary>Throws unless an import consumed all of <paramref name="data"/> and re-exports to the same bytes.</summary>
    public static void EnsureCanonical(string what, ReadOnlySpan<byte> data, int bytesRead, ReadOnlySpan<byte> reexported)
    {
        if (bytesRead != data.Length)
        {
            throw new WireFormatException($"{what} has {data.Length - bytesRead} trailing bytes");
        }

        if (!reexported.SequenceEqual(data))
        {
            throw new WireFormatException($"{what} is not in canonical DER form");
        }
    }

    /// <summary>An import of key bytes.</summary>
    public delegate T ImportFunc<out T>(ReadOnlySpan<byte> data);
}
