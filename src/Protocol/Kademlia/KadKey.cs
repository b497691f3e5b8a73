using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>
/// A point in the Kademlia keyspace: the SHA-256 of a peer id's bytes or of a record or provider key
/// (libp2p/specs <c>kad-dht/README.md</c>, "Distance": "the XOR of the SHA256 of the two keys"). Held as four
/// big-endian 64-bit words so that XOR distances compare without allocating.
/// </summary>
public readonly struct KadKey : IEquatable<KadKey>
{
    /// <summary>Bits in a key.</summary>
    public const int Bits = 256;

    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    private KadKey(ulong w0, ulong w1, ulong w2, ulong w3)
    {
        _w0 = w0;
        _w1 = w1;
        _w2 = w2;
        _w3 = w3;
    }

    /// <summary>The key of <paramref name="peer"/>: SHA-256 of its multihash bytes.</summary>
    public static KadKey FromPeerId(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return FromKeyBytes(peer.Bytes);
    }

    /// <summary>The key of a DHT key (record key, provider multihash, peer id bytes): SHA-256 of it.</summary>
    public static KadKey FromKeyBytes(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(key, hash);
        return FromHash(hash);
    }

    /// <summary>A key from its 32 bytes, which are already a point of the keyspace (not hashed again).</summary>
    public static KadKey FromHash(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32)
        {
            throw new ArgumentException($"a Kademlia key is 32 bytes, not {hash.Length}", nameof(hash));
        }

        return new KadKey(
            BinaryPrimitives.ReadUInt64BigEndian(hash),
            BinaryPrimitives.ReadUInt64BigEndian(hash[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(hash[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(hash[24..]));
    }

    /// <summary>The XOR distance to <paramref name="other"/>, itself a key.</summary>
    public KadKey Xor(KadKey other) => new(_w0 ^ other._w0, _w1 ^ other._w1, _w2 ^ other._w2, _w3 ^ other._w3);

    /// <summary>Leading bits shared with <paramref name="other"/> (256 when equal): the bucket index.</summary>
    public int CommonPrefixLength(KadKey other) => Xor(other).LeadingZeroBits();

    /// <summary>Leading zero bits of this key read as a 256-bit number.</summary>
    public int LeadingZeroBits() =>
        _w0 != 0 ? BitOperations.LeadingZeroCount(_w0)
        : _w1 != 0 ? 64 + BitOperations.LeadingZeroCount(_w1)
        : _w2 != 0 ? 128 + BitOperations.LeadingZeroCount(_w2)
        : _w3 != 0 ? 192 + BitOperations.LeadingZeroCount(_w3)
        : Bits;

    /// <summary>Compares the distances of <paramref name="a"/> and <paramref name="b"/> to this key: negative when
    /// <paramref name="a"/> is closer.</summary>
    public int CompareDistance(KadKey a, KadKey b)
    {
        var da = Xor(a);
        var db = Xor(b);
        return da._w0 != db._w0 ? da._w0.CompareTo(db._w0)
            : da._w1 != db._w1 ? da._w1.CompareTo(db._w1)
            : da._w2 != db._w2 ? da._w2.CompareTo(db._w2)
            : da._w3.CompareTo(db._w3);
    }

    /// <summary>The 32 bytes of the key.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[32];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(8), _w1);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(16), _w2);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(24), _w3);
        return bytes;
    }

    public bool Equals(KadKey other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is KadKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);

    public override string ToString() => Convert.ToHexStringLower(ToBytes());

    public static bool operator ==(KadKey left, KadKey right) => left.Equals(right);

    public static bool operator !=(KadKey left, KadKey right) => !left.Equals(right);
}
