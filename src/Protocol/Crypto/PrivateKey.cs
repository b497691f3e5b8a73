using System.Security.Cryptography;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// A libp2p private key: its <see cref="Crypto.KeyType"/>, its spec-defined <see cref="Data"/> encoding (what an
/// identity file stores inside the <c>PrivateKey</c> protobuf), signing, and its <see cref="PublicKey"/>.
/// Instances are immutable; equality compares the encodings in constant time.
/// </summary>
/// <remarks>
/// Decoding accepts the spec's alternative forms (the legacy 96-byte Ed25519 layout) and normalises them, so
/// <see cref="ToProtobuf"/> always writes the canonical form. A decoded key is checked against its public key
/// (Ed25519 public half, or a sign-and-verify self test for RSA and ECDSA), so a key that cannot produce valid
/// signatures is rejected at load time rather than at the first handshake.
/// </remarks>
public abstract class PrivateKey : IEquatable<PrivateKey>
{
    private readonly byte[] _data;

    private protected PrivateKey(byte[] data)
    {
        _data = data;
    }

    /// <summary>The key type.</summary>
    public abstract KeyType KeyType { get; }

    /// <summary>The secret key in its type's encoding (the protobuf Data field). Handle with care.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>Decodes a <c>PrivateKey</c> protobuf.</summary>
    /// <exception cref="WireFormatException">Not the deterministic layout, an unknown type, or invalid key data.</exception>
    public static PrivateKey FromProtobuf(ReadOnlySpan<byte> encoded)
    {
        var type = KeyProtobuf.Read(encoded, out var data);
        return FromData(type, data);
    }

    /// <summary>Decodes a key of <paramref name="type"/> from its Data encoding.</summary>
    /// <exception cref="WireFormatException">Invalid key data.</exception>
    public static PrivateKey FromData(KeyType type, ReadOnlySpan<byte> data) => type switch
    {
        KeyType.Ed25519 => Ed25519PrivateKey.FromData(data),
        KeyType.Secp256k1 => Secp256k1PrivateKey.FromData(data),
        KeyType.ECDSA => EcdsaPrivateKey.FromData(data),
        KeyType.RSA => RsaPrivateKey.FromData(data),
        _ => throw new WireFormatException($"unknown key type {(int)type}"),
    };

    /// <summary>Generates a new key of <paramref name="type"/> (RSA: <see cref="RsaPrivateKey.DefaultBits"/> bits;
    /// ECDSA: P-256).</summary>
    public static PrivateKey Generate(KeyType type) => type switch
    {
        KeyType.Ed25519 => Ed25519PrivateKey.Generate(),
        KeyType.Secp256k1 => Secp256k1PrivateKey.Generate(),
        KeyType.ECDSA => EcdsaPrivateKey.Generate(),
        KeyType.RSA => RsaPrivateKey.Generate(),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown key type"),
    };

    /// <summary>The matching public key.</summary>
    public abstract PublicKey GetPublicKey();

    /// <summary>Signs <paramref name="data"/> with this key type's libp2p signature scheme.</summary>
    public abstract byte[] Sign(ReadOnlySpan<byte> data);

    /// <summary>The <c>PrivateKey</c> protobuf: <c>08 type 12 len Data</c>, the identity file format.</summary>
    public byte[] ToProtobuf() => KeyProtobuf.Encode(KeyType, _data);

    public bool Equals(PrivateKey? other) =>
        other is not null && KeyType == other.KeyType && CryptographicOperations.FixedTimeEquals(_data, other._data);

    public override bool Equals(object? obj) => Equals(obj as PrivateKey);

    public override int GetHashCode() => GetPublicKey().GetHashCode();

    /// <summary>Names the type and the public key; never the secret.</summary>
    public override string ToString() => $"{KeyType} private key for {GetPublicKey()}";

    /// <summary>Rejects a decoded key whose signatures its own public key does not accept.</summary>
    private protected static void EnsureSignsVerifiably(PrivateKey key)
    {
        ReadOnlySpan<byte> probe = "ToolNet private key self-test"u8;
        if (!key.GetPublicKey().Verify(probe, key.Sign(probe)))
        {
            throw new WireFormatException($"{key.KeyType} private key does not match its public key");
        }
    }
}
