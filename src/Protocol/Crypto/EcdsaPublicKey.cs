using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An ECDSA public key on P-256 (or P-384/P-521). Data is the DER PKIX SubjectPublicKeyInfo with a named curve
/// and an uncompressed point. Signatures are ECDSA over SHA-256 of the message, strict DER.
/// </summary>
public sealed class EcdsaPublicKey : PublicKey
{
    private readonly ECParameters _parameters;
    private readonly int _scalarLength;

    private EcdsaPublicKey(byte[] data, ECParameters parameters)
        : base(data)
    {
        _parameters = parameters;
        _scalarLength = EcdsaCurve.ScalarLength(parameters.Curve);
    }

    public override KeyType KeyType => KeyType.ECDSA;

    /// <summary>Decodes a DER SubjectPublicKeyInfo.</summary>
    /// <exception cref="WireFormatException">Malformed, non-canonical DER, not EC, or an unsupported curve.</exception>
    public static EcdsaPublicKey FromData(ReadOnlySpan<byte> data) =>
        KeyImport.Import(
            "ECDSA public key",
            data,
            ECDsa.Create(),
            static (ecdsa, data) =>
            {
                ecdsa.ImportSubjectPublicKeyInfo(data, out var read);
                return read;
            },
            FromAlgorithm,
            static ecdsa => ecdsa.ExportSubjectPublicKeyInfo());

    internal static EcdsaPublicKey FromAlgorithm(ECDsa ecdsa) =>
        new(ecdsa.ExportSubjectPublicKeyInfo(), ecdsa.ExportParameters(includePrivateParameters: false));

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        Span<byte> rs = stackalloc byte[2 * _scalarLength];
        if (!EcdsaDerSignature.TryDecode(signature, rs[.._scalarLength], rs[_scalarLength..]))
        {
            return false;
        }

        using var ecdsa = ECDsa.Create(_parameters);
        return ecdsa.VerifyHash(SHA256.HashData(data), rs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }
}
