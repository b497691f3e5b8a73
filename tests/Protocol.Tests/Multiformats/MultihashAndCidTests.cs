using FsCheck.Xunit;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Multiformats;

public class MultihashAndCidTests
{
    // multiformats/multihash README: sha2-256 of "foo" (TRANSCRIBED).
    private const string Sha256OfFoo = "12202c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    // The same dag-pb content (the empty unixfs directory) as CIDv0 and as CIDv1 base32 (widely used constant).
    private const string EmptyDirV0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
    private const string EmptyDirV1 = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

    [Fact]
    public void Computes_sha2_256_multihash_byte_for_byte()
    {
        var hash = Multihash.Compute(MultihashCode.Sha2_256, "foo"u8);
        Assert.Equal(Sha256OfFoo, Convert.ToHexStringLower(hash.Bytes));
        Assert.Equal("sha2-256", hash.FunctionName);
        Assert.Equal(hash, Multihash.Decode(Convert.FromHexString(Sha256OfFoo)));
    }

    [Fact]
    public void Identity_multihash_carries_the_data_itself()
    {
        var hash = Multihash.Compute(MultihashCode.Identity, [1, 2, 3]);
        Assert.Equal([0x00, 0x03, 1, 2, 3], hash.Bytes.ToArray());
        Assert.Equal([1, 2, 3], hash.Digest.ToArray());
    }

    [Fact]
    public void Unknown_functions_parse_and_round_trip_with_their_code()
    {
        byte[] blake2b = [0xa0, 0xe4, 0x02, 0x02, 0xAB, 0xCD];
        var hash = Multihash.Decode(blake2b);
        Assert.Equal(0xb220UL, hash.Code);
        Assert.Equal(blake2b, hash.Bytes.ToArray());
        Assert.Throws<NotSupportedException>(() => Multihash.Compute(hash.Code, [1]));
    }

    [Theory]
    [InlineData("1220")]
    [InlineData("12ff01")]
    [InlineData("12")]
    [InlineData("120100aa")]
    [InlineData("00ffffffff0f")]
    public void Rejects_truncated_padded_or_oversized_multihashes(string hex)
    {
        Assert.ThrowsAny<WireFormatException>(() => Multihash.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void A_declared_but_absent_digest_is_rejected_before_allocation()
    {
        // Declares 4096 bytes of digest and sends two: the decoder must refuse without allocating the 4 KiB.
        byte[] bytes = [0x00, 0x80, 0x20, 0x01, 0x02];
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsAny<WireFormatException>(() => Multihash.Decode(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4096);
    }

    [Fact]
    public void CIDv0_and_CIDv1_of_the_same_content_share_their_multihash()
    {
        var v0 = Cid.Parse(EmptyDirV0);
        var v1 = Cid.Parse(EmptyDirV1);
        Assert.Equal(0, v0.Version);
        Assert.Equal(1, v1.Version);
        Assert.Equal(MulticodecCode.DagPb, v1.Codec);
        Assert.Equal(v0.Hash, v1.Hash);
        Assert.Equal(EmptyDirV0, v0.ToString());
        Assert.Equal(EmptyDirV1, v1.ToString());
        Assert.Equal(EmptyDirV1, Cid.CreateV1(MulticodecCode.DagPb, v0.Hash).ToString());
        Assert.Equal(v1, Cid.Decode(v1.ToBytes()));
        Assert.Equal(v0, Cid.Decode(v0.ToBytes()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Qm")]
    [InlineData("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1O")]
    [InlineData("bafy")]
    [InlineData("zQmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n")]
    public void Rejects_malformed_CIDs(string text)
    {
        Assert.ThrowsAny<WireFormatException>(() => Cid.Parse(text));
    }

    [Property]
    public void Multihash_round_trips(ulong code, byte[] digest)
    {
        var hash = Multihash.Create(code & Varint.MaxValue, digest);
        Assert.Equal(hash, Multihash.Decode(hash.Bytes));
    }

    [Property]
    public void CIDv1_round_trips_through_bytes_and_text(ulong codec, byte[] digest)
    {
        var cid = Cid.CreateV1(codec & Varint.MaxValue, Multihash.Create(MultihashCode.Sha2_256, digest));
        Assert.Equal(cid, Cid.Decode(cid.ToBytes()));
        Assert.Equal(cid, Cid.Parse(cid.ToString()));
        Assert.Equal(cid, Cid.Parse(cid.ToString(MultibaseEncoding.Base58Btc)));
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            Multihash.Decode(bytes);
        }
        catch (WireFormatException)
        {
        }

        try
        {
            Cid.Decode(bytes);
        }
        catch (WireFormatException)
        {
        }
    }
}
