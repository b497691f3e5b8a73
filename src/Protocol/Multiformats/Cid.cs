namespace ToolNet.Protocol.Multiformats;

/// <summary>Multicodec content-type codes used in CIDs.</summary>
public static class MulticodecCode
{
    public const ulong Raw = 0x55;
    public const ulong DagPb = 0x70;
    public const ulong DagCbor = 0x71;
    public const ulong Libp2pKey = 0x72;
}

/// <summary>
/// A content identifier. Version 0 is a bare sha2-256 multihash (dag-pb, base58btc text <c>Qm…</c>);
/// version 1 is varint version, varint content codec, multihash (text: multibase, base32 by default;
/// peer ids use codec libp2p-key, <c>bafz…</c>).
/// </summary>
public sealed class Cid : IEquatable<Cid>
{
    private Cid(int version, ulong codec, Multihash hash)
    {
        Version = version;
        Codec = codec;
        Hash = hash;
    }

    /// <summary>0 or 1.</summary>
    public int Version { get; }

    /// <summary>The content multicodec (dag-pb for version 0).</summary>
    public ulong Codec { get; }

    /// <summary>The content's multihash.</summary>
    public Multihash Hash { get; }

    /// <summary>A version 1 CID.</summary>
    public static Cid CreateV1(ulong codec, Multihash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        return new Cid(1, codec, hash);
    }

    /// <summary>A version 0 CID; the hash must be sha2-256 with a 32-byte digest.</summary>
    public static Cid CreateV0(Multihash hash)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (hash.Code != MultihashCode.Sha2_256 || hash.Digest.Length != 32)
        {
            throw new ArgumentException("a CIDv0 is a 32-byte sha2-256 multihash", nameof(hash));
        }

        return new Cid(0, MulticodecCode.DagPb, hash);
    }

    /// <summary>The binary form.</summary>
    public byte[] ToBytes()
    {
        if (Version == 0)
        {
            return Hash.Bytes.ToArray();
        }

        var bytes = new byte[1 + Varint.SizeOf(Codec) + Hash.Bytes.Length];
        bytes[0] = 1;
        var offset = 1 + Varint.Write(bytes.AsSpan(1), Codec);
        Hash.Bytes.CopyTo(bytes.AsSpan(offset));
        return bytes;
    }

    /// <summary>Decodes the binary form.</summary>
    /// <exception cref="WireFormatException">Malformed, an unknown version, or trailing bytes.</exception>
    public static Cid Decode(ReadOnlySpan<byte> data)
    {
        // A CIDv0 is recognised by its multihash prefix: sha2-256 (0x12), 32 bytes (0x20).
        if (data.Length == 34 && data[0] == 0x12 && data[1] == 0x20)
        {
            return new Cid(0, MulticodecCode.DagPb, Multihash.Decode(data));
        }

        var version = Varint.Read(ref data);
        if (version != 1)
        {
            throw new WireFormatException($"unsupported CID version {version}");
        }

        var codec = Varint.Read(ref data);
        return new Cid(1, codec, Multihash.Decode(data));
    }

    /// <summary>Parses the text form: a 46-character <c>Qm…</c> CIDv0, or a multibase-encoded CIDv1.</summary>
    /// <exception cref="WireFormatException">Not a CID.</exception>
    public static Cid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 46 && text.StartsWith("Qm", StringComparison.Ordinal))
        {
            return Decode(Multibase.DecodeBase58Btc(text));
        }

        var cid = Decode(Multibase.Decode(text));
        if (cid.Version == 0)
        {
            throw new WireFormatException("a CIDv0 must be written in base58btc without a multibase prefix");
        }

        return cid;
    }

    /// <summary>The text form: base58btc for version 0, base32 multibase for version 1.</summary>
    public override string ToString() => ToString(MultibaseEncoding.Base32Lower);

    /// <summary>The text form of a version 1 CID in <paramref name="encoding"/>; version 0 is always base58btc.</summary>
    public string ToString(MultibaseEncoding encoding) =>
        Version == 0 ? Multibase.EncodeBase58Btc(Hash.Bytes) : Multibase.Encode(encoding, ToBytes());

    public bool Equals(Cid? other) =>
        other is not null && Version == other.Version && Codec == other.Codec && Hash.Equals(other.Hash);

    public override bool Equals(object? obj) => Equals(obj as Cid);

    public override int GetHashCode() => HashCode.Combine(Version, Codec, Hash);
}
