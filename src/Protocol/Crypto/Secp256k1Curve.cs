using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Crypto.Parameters;
using BigInteger = Org.BouncyCastle.Math.BigInteger;

namespace ToolNet.Protocol.Crypto;

/// <summary>The secp256k1 domain and the scalar/point conversions its keys share.</summary>
internal static class Secp256k1Curve
{
    /// <summary>The length of a scalar and of a field element.</summary>
    public const int ScalarLength = 32;

    private static readonly X9ECParameters Curve = CustomNamedCurves.GetByName("secp256k1");

    /// <summary>The BouncyCastle domain parameters.</summary>
    public static ECDomainParameters Domain { get; } = new(Curve);

    /// <summary>The group order n.</summary>
    public static BigInteger Order => Domain.N;

    /// <summary>Half the group order: a signature's s above it is "high" (BIP 62 canonical signatures use low s).</summary>
    public static BigInteger HalfOrder { get; } = Domain.N.ShiftRight(1);

    /// <summary>SHA-256 of the message: what libp2p secp256k1 signatures sign.</summary>
    public static byte[] HashMessage(ReadOnlySpan<byte> message) => SHA256.HashData(message);
}
