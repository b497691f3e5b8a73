using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An RSA private key: Data is the DER PKCS#1 <c>RSAPrivateKey</c>. Signatures are RSASSA-PKCS1-v1_5 with SHA-256
/// (deterministic, so they match go-libp2p byte for byte). Sizes are bounded as for <see cref="RsaPublicKey"/>.
/// </summary>
public sealed class RsaPrivateKey : PrivateKey
{
    /// <summary>The modulus size <see cref="Generate"/> uses by default.</summary>
    public const int DefaultBits = 2048;

    private readonly RSAParameters _parameters;
    private readonly RsaPublicKey _publicKey;

    private RsaPrivateKey(byte[] data, RSAParameters parameters, RsaPublicKey publicKey)
        : base(data)
    {
        _parameters = parameters;
        _publicKey = publicKey;
    }

    public override KeyType KeyType => KeyType.RSA;

    /// <summary>Decodes a DER PKCS#1 RSAPrivateKey; the key is re-encoded canonically and must sign verifiably.</summary>
    /// <exception cref="WireFormatException">Malformed, trailing bytes, out-of-bounds size or exponent, or inconsistent.</exception>
    public static RsaPrivateKey FromData(ReadOnlySpan<byte> data)
    {
        var key = KeyImport.Import(
            "RSA private key",
            data,
            RSA.Create(),
            static (rsa, data) =>
            {
                rsa.ImportRSAPrivateKey(data, out var read);
                return read;
            },
            FromAlgorithm);
        EnsureSignsVerifiably(key);
        return key;
    }

    /// <summary>Generates a key with a <paramref name="bits"/>-bit modulus and exponent 65537.</summary>
    public static RsaPrivateKey Generate(int bits = DefaultBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits, RsaPublicKey.MinBits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, RsaPublicKey.MaxBits);
        using var rsa = RSA.Create(bits);
        return FromAlgorithm(rsa);
    }

    private static RsaPrivateKey FromAlgorithm(RSA rsa) =>
        new(rsa.ExportRSAPrivateKey(), rsa.ExportParameters(includePrivateParameters: true), RsaPublicKey.FromAlgorithm(rsa));

    public override RsaPublicKey GetPublicKey() => _publicKey;

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        using var rsa = RSA.Create(_parameters);
        return rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }
}
