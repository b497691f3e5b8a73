using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>The NIST curves accepted for <see cref="KeyType.ECDSA"/> keys, by their SEC/X9.62 object identifier.</summary>
internal static class EcdsaCurve
{
    /// <summary>The length of a scalar (and of r and s) on <paramref name="curve"/>.</summary>
    /// <exception cref="WireFormatException">Explicit parameters, or a curve other than P-256, P-384, P-521.</exception>
    public static int ScalarLength(ECCurve curve) => curve.IsNamed ? curve.Oid.Value switch
    {
        "1.2.840.10045.3.1.7" => 32, // P-256, the curve go-libp2p generates
        "1.3.132.0.34" => 48, // P-384
        "1.3.132.0.35" => 66, // P-521
        _ => throw new WireFormatException($"ECDSA curve {curve.Oid.Value} is not supported"),
    } : throw new WireFormatException("ECDSA key must name its curve");
}
