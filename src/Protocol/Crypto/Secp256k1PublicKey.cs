using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// A secp256k1 public key. Data is the 33-byte SEC1 compressed point ("standard Bitcoin EC encoding",
/// peer-ids.md "Secp256k1"; every libp2p implementation writes this form). Signatures are ECDSA over SHA-256 of
/// the message in strict DER; both low and high s verify.
/// </summary>
public sealed class Secp256k1PublicKey : PublicKey
{
    /// <summary>The length of a compressed point, the only accepted Data.</summary>
    public const int KeyLength = 33;

    private readonly ECPublicKeyParameters _parameters;

    private Secp256k1PublicKey(byte[] data, ECPublicKeyParameters parameters)
        : base(data)
    {
        _parameters = parameters;
    }

    public override KeyType KeyType => KeyType.Secp256k1;

    /// <summary>Decodes a 33-byte compressed point.</summary>
    /// <exception cref="WireFormatException">Another length or prefix, or not a point on the curve.</exception>
    public static Secp256k1PublicKey FromData(ReadOnlySpan<byte> data)
    {
        if (data.Length != KeyLength || (data[0] != 0x02 && data[0] != 0x03))
        {
            throw new WireFormatException($"secp256k1 public key must be a {KeyLength}-byte compressed point");
        }

        ECPoint point;
        try
        {
            point = Secp256k1Curve.Domain.Curve.DecodePoint(data.ToArray());
        }
        catch (ArgumentException e)
        {
            throw new WireFormatException("secp256k1 public key is not a point on the curve", e);
        }

        return FromPoint(point);
    }

    internal static Secp256k1PublicKey FromPoint(ECPoint point)
    {
        var normalized = point.Normalize();
        return new Secp256k1PublicKey(normalized.GetEncoded(compressed: true), new ECPublicKeyParameters(normalized, Secp256k1Curve.Domain));
    }

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        Span<byte> r = stackalloc byte[Secp256k1Curve.ScalarLength];
        Span<byte> s = stackalloc byte[Secp256k1Curve.ScalarLength];
        if (!EcdsaDerSignature.TryDecode(signature, r, s))
        {
            return false;
        }

        var verifier = new ECDsaSigner();
        verifier.Init(false, _parameters);
        return verifier.VerifySignature(Secp256k1Curve.HashMessage(data), new BigInteger(1, r), new BigInteger(1, s));
    }
}
