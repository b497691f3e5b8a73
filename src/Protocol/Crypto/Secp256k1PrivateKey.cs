using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// A secp256k1 private key: Data is the 32-byte big-endian scalar. Signatures are deterministic (RFC 6979 nonces,
/// SHA-256) with low s (BIP 62), DER-encoded, over SHA-256 of the message: the same bytes go-libp2p produces.
/// </summary>
public sealed class Secp256k1PrivateKey : PrivateKey
{
    /// <summary>The length of Data.</summary>
    public const int KeyLength = Secp256k1Curve.ScalarLength;

    private readonly ECPrivateKeyParameters _parameters;
    private readonly Secp256k1PublicKey _publicKey;

    private Secp256k1PrivateKey(byte[] data, BigInteger scalar)
        : base(data)
    {
        _parameters = new ECPrivateKeyParameters(scalar, Secp256k1Curve.Domain);
        _publicKey = Secp256k1PublicKey.FromPoint(Secp256k1Curve.Domain.G.Multiply(scalar));
    }

    public override KeyType KeyType => KeyType.Secp256k1;

    /// <summary>Decodes the 32-byte scalar.</summary>
    /// <exception cref="WireFormatException">Not 32 bytes, zero, or not below the group order.</exception>
    public static Secp256k1PrivateKey FromData(ReadOnlySpan<byte> data)
    {
        if (data.Length != KeyLength)
        {
            throw new WireFormatException($"secp256k1 private key must be {KeyLength} bytes, not {data.Length}");
        }

        var scalar = new BigInteger(1, data);
        if (scalar.SignValue == 0 || scalar.CompareTo(Secp256k1Curve.Order) >= 0)
        {
            throw new WireFormatException("secp256k1 private key is not in [1, n-1]");
        }

        return new Secp256k1PrivateKey(data.ToArray(), scalar);
    }

    /// <summary>Generates a key with a uniformly random scalar in [1, n-1].</summary>
    public static Secp256k1PrivateKey Generate()
    {
        Span<byte> candidate = stackalloc byte[KeyLength];
        while (true)
        {
            RandomNumberGenerator.Fill(candidate);
            var scalar = new BigInteger(1, candidate);
            if (scalar.SignValue != 0 && scalar.CompareTo(Secp256k1Curve.Order) < 0)
            {
                var key = new Secp256k1PrivateKey(candidate.ToArray(), scalar);
                CryptographicOperations.ZeroMemory(candidate);
                return key;
            }
        }
    }

    public override Secp256k1PublicKey GetPublicKey() => _publicKey;

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _parameters);
        var rs = signer.GenerateSignature(Secp256k1Curve.HashMessage(data));
        var s = rs[1].CompareTo(Secp256k1Curve.HalfOrder) > 0 ? Secp256k1Curve.Order.Subtract(rs[1]) : rs[1];
        return EcdsaDerSignature.Encode(rs[0].ToByteArrayUnsigned(), s.ToByteArrayUnsigned());
    }
}
