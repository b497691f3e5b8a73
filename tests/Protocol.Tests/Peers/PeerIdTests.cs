using System.Security.Cryptography;
using System.Text.Json;
using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Peers;

public class PeerIdTests
{
    private static readonly JsonElement Examples =
        VectorFile.Json("peer-ids", "spec-key-and-peerid-vectors.json").GetProperty("string_examples");

    private static string Example(string name) => Examples.GetProperty("examples").GetProperty(name).GetString()!;

    [Fact]
    public void Spec_CID_and_base58_examples_are_the_same_sha256_peer()
    {
        var fromCid = PeerId.Parse(Example("cid_b32"));
        var fromBase58 = PeerId.Parse(Example("b58_sha256"));

        Assert.Equal(fromCid, fromBase58);
        Assert.Equal(Examples.GetProperty("derived_cid_decoded").GetProperty("multihash_hex").GetString(), Convert.ToHexStringLower(fromCid.ToBytes()));
        Assert.Equal(Examples.GetProperty("derived_qm_multihash_hex").GetString(), Convert.ToHexStringLower(fromBase58.ToBytes()));
        Assert.Equal(MultihashCode.Sha2_256, fromCid.Multihash.Code);
        Assert.Equal(Example("b58_sha256"), fromCid.ToString());
        Assert.Equal(Example("cid_b32"), fromBase58.ToCidString());
        Assert.False(fromCid.HasInlinePublicKey);
        Assert.False(fromCid.TryExtractPublicKey(out var key));
        Assert.Null(key);
    }

    [Fact]
    public void Spec_Ed25519_example_embeds_its_public_key()
    {
        var peerId = PeerId.Parse(Example("b58_identity_ed25519"));

        Assert.Equal(Examples.GetProperty("derived_12D3_multihash_hex").GetString(), Convert.ToHexStringLower(peerId.ToBytes()));
        Assert.True(peerId.TryExtractPublicKey(out var key));
        Assert.Equal(KeyType.Ed25519, key.KeyType);
        Assert.Equal(Examples.GetProperty("derived_12D3_embedded_public_key_protobuf_hex").GetString(), Convert.ToHexStringLower(key.ToProtobuf()));
        Assert.True(peerId.Matches(key));
        Assert.Equal(peerId, PeerId.FromPublicKey(key));
        Assert.Equal(Example("b58_identity_ed25519"), peerId.ToString());
        Assert.Equal(peerId, PeerId.Parse(peerId.ToCidString()));
        Assert.StartsWith("bafz", peerId.ToCidString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Other_multibases_of_the_CID_parse_too()
    {
        var peerId = PeerId.Parse(Example("cid_b32"));
        foreach (var encoding in new[] { MultibaseEncoding.Base36Lower, MultibaseEncoding.Base58Btc, MultibaseEncoding.Base16Lower, MultibaseEncoding.Base32Upper })
        {
            Assert.Equal(peerId, PeerId.Parse(peerId.ToCidString(encoding)));
        }
    }

    [Fact]
    public void Text_forms_start_as_the_spec_describes()
    {
        Assert.StartsWith("12D3KooW", PeerId.FromPublicKey(Ed25519PrivateKey.Generate().GetPublicKey()).ToString(), StringComparison.Ordinal);
        Assert.StartsWith("16Uiu2", PeerId.FromPublicKey(Secp256k1PrivateKey.Generate().GetPublicKey()).ToString(), StringComparison.Ordinal);
        Assert.StartsWith("Qm", PeerId.FromPublicKey(EcdsaPrivateKey.Generate().GetPublicKey()).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_CID_with_another_codec_is_not_a_peer_id()
    {
        var multihash = PeerId.Parse(Example("cid_b32")).Multihash;
        var dagPb = Cid.CreateV1(MulticodecCode.DagPb, multihash).ToString();

        var exception = Assert.Throws<WireFormatException>(() => PeerId.Parse(dagPb));
        Assert.Contains("libp2p-key", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Qm")]
    [InlineData("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5")] // one character short
    [InlineData("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N0")] // '0' is not base58
    [InlineData("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5S")] // truncated identity
    [InlineData("xyz")] // unknown multibase prefix
    [InlineData("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xq")] // truncated CID
    [InlineData("zQmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N")] // multibase CIDv0
    public void Rejects_malformed_text(string text)
    {
        Assert.Throws<WireFormatException>(() => PeerId.Parse(text));
        Assert.False(PeerId.TryParse(text, out var peerId));
        Assert.Null(peerId);
    }

    [Fact]
    public void Rejects_overlong_text_before_decoding()
    {
        var text = "Qm" + new string('z', PeerId.MaxTextLength);
        var exception = Assert.Throws<WireFormatException>(() => PeerId.Parse(text));
        Assert.Contains("exceeds", exception.Message, StringComparison.Ordinal);
        Assert.False(PeerId.TryParse(null, out _));
    }

    [Theory]
    [InlineData("1340" + "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "sha2-512")]
    [InlineData("121f" + "00000000000000000000000000000000000000000000000000000000000000", "sha2-256 of 31 bytes")]
    [InlineData("1221" + "000000000000000000000000000000000000000000000000000000000000000000", "sha2-256 of 33 bytes")]
    [InlineData("002b" + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000", "identity of 43 bytes")]
    [InlineData("1220" + "00", "truncated")]
    [InlineData("1220" + "000000000000000000000000000000000000000000000000000000000000000000", "trailing byte")]
    [InlineData("", "empty")]
    public void Rejects_multihashes_that_cannot_be_peer_ids(string hex, string why)
    {
        Assert.True(WireFormatAssert.Rejects(() => PeerId.FromBytes(Convert.FromHexString(hex))), why);
    }

    [Fact]
    public void Identity_ids_of_bytes_that_are_not_a_key_yield_no_key()
    {
        var peerId = PeerId.FromBytes([0x00, 0x03, 1, 2, 3]);

        Assert.True(peerId.HasInlinePublicKey);
        Assert.False(peerId.TryExtractPublicKey(out _));
        Assert.Equal(peerId, PeerId.Parse(peerId.ToString()));
    }

    [Fact]
    public void Matches_only_its_own_key()
    {
        var key = Ed25519PrivateKey.Generate().GetPublicKey();
        var rsa = RsaPrivateKey.Generate().GetPublicKey();

        Assert.True(PeerId.FromPublicKey(key).Matches(key));
        Assert.False(PeerId.FromPublicKey(key).Matches(Ed25519PrivateKey.Generate().GetPublicKey()));
        Assert.True(PeerId.FromPublicKey(rsa).Matches(rsa));
        Assert.False(PeerId.FromPublicKey(rsa).Matches(key));
    }

    [Fact]
    public void Equality_and_ordering_follow_the_bytes()
    {
        var low = PeerId.FromBytes([0x00, 0x01, 0x01]);
        var high = PeerId.FromBytes([0x00, 0x01, 0x02]);
        var lowAgain = PeerId.Parse(low.ToString());

        Assert.True(low == lowAgain);
        Assert.Equal(low.GetHashCode(), lowAgain.GetHashCode());
        Assert.True(low != high);
        Assert.True(low < high && high > low && low <= lowAgain && high >= low);
        Assert.Equal(0, low.CompareTo(lowAgain));
        Assert.True(low.CompareTo(null) > 0);
        Assert.True(null < low);
        Assert.Equal([low, high], new[] { high, low }.Order());
        Assert.Throws<ArgumentException>(() => ((IComparable)low).CompareTo("not a peer id"));
    }

    [Property]
    public void Ids_of_keys_round_trip_in_both_text_forms_and_bytes(byte[] material)
    {
        var seed = SHA256.HashData(material);
        AssertRoundTrips(PeerId.FromPublicKey(Ed25519PrivateKey.FromSeed(seed).GetPublicKey()));
        AssertRoundTrips(PeerId.FromPublicKey(Secp256k1PrivateKey.FromData(seed).GetPublicKey()));
        AssertRoundTrips(PeerId.FromMultihash(Multihash.Create(MultihashCode.Sha2_256, seed)));
    }

    [Property]
    public void Identity_ids_of_any_short_bytes_round_trip(byte[] digest)
    {
        AssertRoundTrips(PeerId.FromMultihash(Multihash.Create(MultihashCode.Identity, digest.AsSpan(0, Math.Min(digest.Length, PeerId.MaxInlineKeyLength)))));
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            Assert.Equal(bytes, PeerId.FromBytes(bytes).ToBytes());
        }
        catch (WireFormatException)
        {
        }
    }

    [Property]
    public void Arbitrary_text_decodes_or_throws_the_format_exception(string? text)
    {
        try
        {
            var peerId = PeerId.Parse(text ?? "");
            AssertRoundTrips(peerId);
        }
        catch (WireFormatException)
        {
        }
    }

    private static void AssertRoundTrips(PeerId peerId)
    {
        Assert.Equal(peerId, PeerId.FromBytes(peerId.ToBytes()));
        Assert.Equal(peerId, PeerId.Parse(peerId.ToString()));
        Assert.Equal(peerId, PeerId.Parse(peerId.ToCidString()));
        Assert.Equal(peerId.ToBytes(), peerId.Bytes.ToArray());
    }
}
