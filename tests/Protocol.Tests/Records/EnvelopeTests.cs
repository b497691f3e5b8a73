using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Tests.Records;

public class EnvelopeTests
{
    private static readonly System.Text.Json.JsonElement Vector = VectorFile.Json("signed-envelope", "peer-record-envelope-derived.json");
    private static readonly PrivateKey Key = PrivateKey.FromProtobuf(Vector.GetProperty("identity_private_key_protobuf_hex").Hex());
    private static readonly byte[] PayloadType = [0x03, 0x01];

    [Fact]
    public void Signs_exactly_the_varint_prefixed_domain_type_and_payload()
    {
        var payload = Vector.GetProperty("peer_record_protobuf_hex").Hex();
        Assert.Equal(
            Vector.GetProperty("signed_bytes_hex").GetString(),
            Convert.ToHexStringLower(Envelope.SignedBytes("libp2p-peer-record", PayloadType, payload)));
    }

    [Fact]
    public void Seals_the_derived_vector_byte_for_byte()
    {
        var envelope = Envelope.Seal(Key, "libp2p-peer-record", PayloadType, Vector.GetProperty("peer_record_protobuf_hex").Hex());
        Assert.Equal(Vector.GetProperty("signature_hex").GetString(), Convert.ToHexStringLower(envelope.Signature));
        Assert.Equal(Vector.GetProperty("envelope_protobuf_hex").GetString(), Convert.ToHexStringLower(envelope.ToProtobuf()));
    }

    [Fact]
    public void Opens_the_derived_vector_and_re_encodes_it_identically()
    {
        var bytes = Vector.GetProperty("envelope_protobuf_hex").Hex();
        var envelope = Envelope.Open(bytes, "libp2p-peer-record");
        Assert.Equal(Key.GetPublicKey(), envelope.PublicKey);
        Assert.Equal(PayloadType, envelope.PayloadType.ToArray());
        Assert.Equal(Vector.GetProperty("peer_record_protobuf_hex").Hex(), envelope.Payload.ToArray());
        Assert.Equal(bytes, envelope.ToProtobuf());
    }

    [Fact]
    public void Rejects_a_wrong_domain()
    {
        var bytes = Vector.GetProperty("envelope_protobuf_hex").Hex();
        Assert.Throws<RecordVerificationException>(() => Envelope.Open(bytes, "libp2p-routing-state"));
    }

    [Fact]
    public void Rejects_any_single_bit_flip_in_payload_or_signature()
    {
        var good = Envelope.Seal(Key, "test-domain", [0x01], "hello"u8);
        var bytes = good.ToProtobuf();
        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var tampered = (byte[])bytes.Clone();
                tampered[i] ^= (byte)(1 << bit);
                var outcome = Record.Exception(() => Envelope.Open(tampered, "test-domain"));
                Assert.True(
                    outcome is WireFormatException or RecordVerificationException,
                    $"flipping bit {bit} of byte {i} was accepted or failed oddly: {outcome}");
            }
        }
    }

    [Fact]
    public void Rejects_a_signature_by_another_key()
    {
        var other = PrivateKey.Generate(KeyType.Ed25519);
        var forged = Envelope.Seal(other, "test-domain", [0x01], "hello"u8);
        // Put our public key in front of the other key's signature.
        var honest = Envelope.Seal(Key, "test-domain", [0x01], "hello"u8).ToProtobuf();
        var spliced = honest[..^64].Concat(forged.Signature.ToArray()).ToArray();
        Assert.Throws<RecordVerificationException>(() => Envelope.Open(spliced, "test-domain"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0a")]
    [InlineData("0a02ffff")]
    [InlineData("1a0568656c6c6f")]
    [InlineData("0a24080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e")]
    [InlineData("2aff7f00")]
    public void Rejects_malformed_envelopes_with_the_format_exception(string hex)
    {
        Assert.ThrowsAny<WireFormatException>(() => Envelope.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Rejects_oversized_envelopes_before_parsing()
    {
        Assert.ThrowsAny<WireFormatException>(() => Envelope.Decode(new byte[Envelope.MaxEncodedLength + 1]));
    }

    [Property(MaxTest = 50)]
    public void Seal_then_open_round_trips(byte[] payloadType, byte[] payload)
    {
        var envelope = Envelope.Seal(Key, "prop-domain", payloadType, payload);
        var opened = Envelope.Open(envelope.ToProtobuf(), "prop-domain");
        Assert.Equal(payload, opened.Payload.ToArray());
        Assert.Equal(payloadType, opened.PayloadType.ToArray());
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            Envelope.Decode(bytes);
        }
        catch (WireFormatException)
        {
        }
    }
}
