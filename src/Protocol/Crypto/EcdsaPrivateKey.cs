using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An ECDSA private key on P-256 (or P-384/P-521). Data is the DER SEC1 <c>ECPrivateKey</c> (RFC 5915) with the
/// named curve and the public key, which is what go-libp2p writes and the spec's test vector holds (the spec's
/// prose says "DER-encoded PKIX", but the vector is SEC1). Signatures are ECDSA over SHA-256, DER-encoded.
/// </summary>
public sealed class EcdsaPrivateKey : PrivateKey
{
    private readonly ECParameters _parameters;
    private readonly EcdsaPublicKey _publicKey;
    private readonly int _scalarLength;

    private EcdsaPrivateKey(byte[] data, ECParameters parameters, EcdsaPublicKey publicKey)
        : base(data)
    {
        _parameters = parameters;
        _publicKey = publicKey;
        _scalarLength = EcdsaCurve.ScalarLength(parameters.Curve);
    }

    public override KeyType KeyType => KeyType.ECDSA;

    /// <summary>Decodes a DER SEC1 ECPrivateKey; the key is re-encoded in the canonical form (curve and public key
    /// included) and must sign verifiably.</summary>
    /// <exception cref="WireFormatException">Malformed, trailing bytes, an unsupported curve, or inconsistent.</exception>
    public static EcdsaPrivateKey FromData(ReadOnlySpan<byte> data)
    {
        var key = KeyImport.Import(
            "ECDSA private key",
            data,
            ECDsa.Create(),
            static (ecdsa, data) =>
            {
                ecdsa.ImportECPrivateKey(data, out var read);
                return read;
            },
            FromAlgorithm);
        EnsureSignsVerifiably(key);
        return key;
    }

    /// <summary>Generates a P-256 key.</summary>
    public static EcdsaPrivateKey Generate()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return FromAlgorithm(ecdsa);
    }

    private static EcdsaPrivateKey FromAlgorithm(ECDsa ecdsa) =>
        new(ecdsa.ExportECPrivateKey(), ecdsa.ExportParameters(includePrivateParameters: true), EcdsaPublicKey.FromAlgorithm(ecdsa));

    public override EcdsaPublicKey GetPublicKey() => _publicKey;

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        using var ecdsa = ECDsa.Create(_parameters);
        Span<byte> rs = stackalloc byte[2 * _scalarLength];
        ecdsa.SignHash(SHA256.HashData(data), rs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return EcdsaDerSignature.Encode(rs[.._scalarLength], rs[_scalarLength..]);
    }
}
