using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An Ed25519 private key. Data is the 32-byte seed followed by the 32-byte public key (64 bytes), the spec's
/// preferred form; the older 96-byte form (seed, public key, public key again) is accepted when both copies of the
/// public key agree (peer-ids.md, "Ed25519"), and is written back in the 64-byte form.
/// </summary>
public sealed class Ed25519PrivateKey : PrivateKey
{
    /// <summary>The length of the RFC 8032 private key (the seed).</summary>
    public const int SeedLength = 32;

    /// <summary>The length of the canonical Data: seed then public key.</summary>
    public const int DataLength = SeedLength + Ed25519PublicKey.KeyLength;

    private const int LegacyDataLength = DataLength + Ed25519PublicKey.KeyLength;

    private readonly Ed25519PrivateKeyParameters _parameters;
    private readonly Ed25519PublicKey _publicKey;

    private Ed25519PrivateKey(byte[] data, Ed25519PrivateKeyParameters parameters, Ed25519PublicKey publicKey)
        : base(data)
    {
        _parameters = parameters;
        _publicKey = publicKey;
    }

    public override KeyType KeyType => KeyType.Ed25519;

    /// <summary>Decodes the 64-byte (or legacy 96-byte) Data.</summary>
    /// <exception cref="WireFormatException">Another length, or a public half that does not belong to the seed.</exception>
    public static Ed25519PrivateKey FromData(ReadOnlySpan<byte> data)
    {
        if (data.Length == LegacyDataLength)
        {
            if (!data.Slice(SeedLength, Ed25519PublicKey.KeyLength).SequenceEqual(data[DataLength..]))
            {
                throw new WireFormatException("legacy 96-byte Ed25519 private key has two different public keys");
            }

            data = data[..DataLength];
        }
        else if (data.Length != DataLength)
        {
            throw new WireFormatException($"Ed25519 private key must be {DataLength} bytes, not {data.Length}");
        }

        var key = FromSeed(data[..SeedLength]);
        if (!CryptographicOperations.FixedTimeEquals(key._publicKey.Data, data[SeedLength..]))
        {
            throw new WireFormatException("Ed25519 private key's public half does not match its seed");
        }

        return key;
    }

    /// <summary>The key for an RFC 8032 32-byte private key (seed).</summary>
    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"an Ed25519 seed is {SeedLength} bytes", nameof(seed));
        }

        var parameters = new Ed25519PrivateKeyParameters(seed);
        var publicKey = Ed25519PublicKey.FromParameters(parameters.GeneratePublicKey());
        var data = new byte[DataLength];
        seed.CopyTo(data);
        publicKey.Data.CopyTo(data.AsSpan(SeedLength));
        return new Ed25519PrivateKey(data, parameters, publicKey);
    }

    /// <summary>Generates a key from a fresh random seed.</summary>
    public static Ed25519PrivateKey Generate()
    {
        Span<byte> seed = stackalloc byte[SeedLength];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public override Ed25519PublicKey GetPublicKey() => _publicKey;

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        var signature = new byte[Ed25519PublicKey.SignatureLength];
        _parameters.Sign(Ed25519.Algorithm.Ed25519, null, data, signature);
        return signature;
    }
}
