using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An RSA public key: Data is the DER PKIX SubjectPublicKeyInfo (rsaEncryption). Signatures are RSASSA-PKCS1-v1_5
/// with SHA-256. Keys of fewer than <see cref="MinBits"/> or more than <see cref="MaxBits"/> bits are rejected,
/// the limits go-libp2p enforces (the spec names none), as are even moduli and exponents that are even or below 3.
/// </summary>
public sealed class RsaPublicKey : PublicKey
{
    /// <summary>The smallest accepted modulus.</summary>
    public const int MinBits = 2048;

    /// <summary>The largest accepted modulus; it bounds the work a remote can ask of us per verification.</summary>
    public const int MaxBits = 8192;

    private readonly RSAParameters _parameters;

    private RsaPublicKey(byte[] data, RSAParameters parameters)
        : base(data)
    {
        _parameters = parameters;
    }

    public override KeyType KeyType => KeyType.RSA;

    /// <summary>The modulus length in bits.</summary>
    public int KeySize { get; private init; }

    /// <summary>Decodes a DER SubjectPublicKeyInfo.</summary>
    /// <exception cref="WireFormatException">Malformed, non-canonical DER, not RSA, or a size or exponent out of bounds.</exception>
    public static RsaPublicKey FromData(ReadOnlySpan<byte> data) =>
        KeyImport.Import(
            "RSA public key",
            data,
            RSA.Create(),
            static (rsa, data) =>
            {
                rsa.ImportSubjectPublicKeyInfo(data, out var read);
                return read;
            },
            FromAlgorithm,
            static rsa => rsa.ExportSubjectPublicKeyInfo());

    internal static RsaPublicKey FromAlgorithm(RSA rsa)
    {
        if (rsa.KeySize is < MinBits or > MaxBits)
        {
            throw new WireFormatException($"RSA key of {rsa.KeySize} bits is outside [{MinBits}, {MaxBits}]");
        }

        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        if ((parameters.Modulus![^1] & 1) == 0 || !IsAcceptableExponent(parameters.Exponent!))
        {
            throw new WireFormatException("RSA key has an even modulus or an exponent that is even, below 3 or above 2^31-1");
        }

        return new RsaPublicKey(rsa.ExportSubjectPublicKeyInfo(), parameters) { KeySize = rsa.KeySize };
    }

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        using var rsa = RSA.Create(_parameters);
        try
        {
            return rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool IsAcceptableExponent(ReadOnlySpan<byte> exponent)
    {
        var value = 0L;
        foreach (var b in exponent.TrimStart((byte)0))
        {
            value = (value << 8) | b;
            if (value > int.MaxValue)
            {
                return false;
            }
        }

        return value >= 3 && (value & 1) == 1;
    }
}
