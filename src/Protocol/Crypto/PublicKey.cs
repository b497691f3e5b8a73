using System.Buffers;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// A libp2p public key: one of the four <see cref="Crypto.KeyType"/>s, its spec-defined <see cref="Data"/> encoding,
/// and signature verification. Instances are immutable and always hold the canonical encoding, so two keys are
/// equal exactly when their protobuf encodings are equal; that encoding is what a peer id is derived from.
/// </summary>
/// <remarks>
/// Decoding is strict because remote peers send us their keys (Noise handshake, identify, signed envelopes) and
/// the peer id is a hash of the encoding, so one key must have exactly one encoding (peer-ids.md, "Note about
/// deterministic encoding"). <see cref="FromProtobuf"/> accepts only <c>08 type 12 varint(len) Data</c>: Type
/// first and present even for RSA (0), Data second, minimal varints, no unknown, repeated or trailing fields, at
/// most <see cref="MaxProtobufLength"/> bytes. <see cref="FromData"/> accepts only Data that re-encodes to the same
/// bytes. Every failure, including one inside the crypto libraries, is a <see cref="WireFormatException"/>.
/// </remarks>
public abstract class PublicKey : IEquatable<PublicKey>
{
    /// <summary>The largest key protobuf accepted (public or private); an 8192-bit RSA private key needs about 4.7 KiB.</summary>
    public const int MaxProtobufLength = KeyProtobuf.MaxLength;

    private readonly byte[] _data;

    private protected PublicKey(byte[] data)
    {
        _data = data;
    }

    /// <summary>The key type.</summary>
    public abstract KeyType KeyType { get; }

    /// <summary>The key in its type's encoding (the protobuf Data field).</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>The length of <see cref="ToProtobuf"/>.</summary>
    public int ProtobufLength => KeyProtobuf.LengthOf(_data.Length);

    /// <summary>Decodes a <c>PublicKey</c> protobuf.</summary>
    /// <exception cref="WireFormatException">Not the deterministic layout, an unknown type, or invalid key data.</exception>
    public static PublicKey FromProtobuf(ReadOnlySpan<byte> encoded)
    {
        var type = KeyProtobuf.Read(encoded, out var data);
        return FromData(type, data);
    }

    /// <summary>Decodes a key of <paramref name="type"/> from its Data encoding.</summary>
    /// <exception cref="WireFormatException">Invalid or non-canonical key data.</exception>
    public static PublicKey FromData(KeyType type, ReadOnlySpan<byte> data) => type switch
    {
        KeyType.Ed25519 => Ed25519PublicKey.FromData(data),
        KeyType.Secp256k1 => Secp256k1PublicKey.FromData(data),
        KeyType.ECDSA => EcdsaPublicKey.FromData(data),
        KeyType.RSA => RsaPublicKey.FromData(data),
        _ => throw new WireFormatException($"unknown key type {(int)type}"),
    };

    /// <summary>Whether <paramref name="signature"/> is this key's valid signature of <paramref name="data"/>.
    /// A malformed signature is simply not valid: this never throws for bad signature bytes.</summary>
    public abstract bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);

    /// <summary>The <c>PublicKey</c> protobuf: <c>08 type 12 len Data</c>.</summary>
    public byte[] ToProtobuf() => KeyProtobuf.Encode(KeyType, _data);

    /// <summary>Writes the <c>PublicKey</c> protobuf into <paramref name="destination"/>; returns <see cref="ProtobufLength"/>.</summary>
    public int WriteProtobuf(Span<byte> destination) => KeyProtobuf.Write(destination, KeyType, _data);

    /// <summary>Writes the <c>PublicKey</c> protobuf into <paramref name="writer"/>.</summary>
    public void WriteProtobuf(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Advance(WriteProtobuf(writer.GetSpan(ProtobufLength)));
    }

    public bool Equals(PublicKey? other) =>
        other is not null && KeyType == other.KeyType && _data.AsSpan().SequenceEqual(other._data);

    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(KeyType);
        hash.AddBytes(_data);
        return hash.ToHashCode();
    }

    /// <summary>The type and the Data in hex, e.g. <c>Ed25519:1ed1e8…</c>.</summary>
    public override string ToString() => $"{KeyType}:{Convert.ToHexStringLower(_data)}";
}
