using FsCheck.Xunit;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Tests.Addressing;

namespace ToolNet.Protocol.Tests.Records;

public class PeerRecordTests
{
    private static readonly System.Text.Json.JsonElement Vector = VectorFile.Json("signed-envelope", "peer-record-envelope-derived.json");
    private static readonly PrivateKey Key = PrivateKey.FromProtobuf(Vector.GetProperty("identity_private_key_protobuf_hex").Hex());
    private static readonly PeerId Peer = PeerId.Parse(Vector.GetProperty("peer_id").GetString()!);

    private static PeerRecord VectorRecord() => new(
        Peer,
        Vector.GetProperty("seq").GetUInt64(),
        Vector.GetProperty("addresses").EnumerateArray().Select(a => Multiaddr.Parse(a.GetProperty("string").GetString()!)));

    [Fact]
    public void Vector_addresses_have_the_vector_binary_form()
    {
        foreach (var address in Vector.GetProperty("addresses").EnumerateArray())
        {
            Assert.Equal(address.GetProperty("hex").Hex(), Multiaddr.Parse(address.GetProperty("string").GetString()!).ToBytes());
        }
    }

    [Fact]
    public void Encodes_the_vector_record_byte_for_byte()
    {
        Assert.Equal(Vector.GetProperty("peer_record_protobuf_hex").GetString(), Convert.ToHexStringLower(VectorRecord().ToProtobuf()));
    }

    [Fact]
    public void Seals_the_vector_envelope_byte_for_byte()
    {
        var envelope = VectorRecord().Seal(Key);
        Assert.Equal(Vector.GetProperty("envelope_protobuf_hex").GetString(), Convert.ToHexStringLower(envelope.ToProtobuf()));
    }

    [Fact]
    public void Consumes_the_vector_envelope()
    {
        var bytes = Vector.GetProperty("envelope_protobuf_hex").Hex();
        var (envelope, record) = PeerRecord.ConsumeEnvelope(bytes);
        Assert.Equal(VectorRecord(), record);
        Assert.Equal(Peer, record.PeerId);
        Assert.Equal(1700000000000000000UL, record.Seq);
        Assert.Equal(["/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/udp/4001/quic-v1"], record.Addresses.Select(a => a.ToString()));
        Assert.Equal(Key.GetPublicKey(), envelope.PublicKey);
        Assert.Equal(bytes, envelope.ToProtobuf());
    }

    [Fact]
    public void Rejects_a_record_signed_under_another_domain()
    {
        var envelope = Envelope.Seal(Key, "libp2p-routing-state", PeerRecord.EnvelopePayloadType, VectorRecord().ToProtobuf());
        Assert.Throws<RecordVerificationException>(() => PeerRecord.ConsumeEnvelope(envelope.ToProtobuf()));
    }

    [Fact]
    public void Rejects_a_bad_signature()
    {
        var bytes = Vector.GetProperty("envelope_protobuf_hex").Hex();
        bytes[^1] ^= 0x01;
        Assert.Throws<RecordVerificationException>(() => PeerRecord.ConsumeEnvelope(bytes));
    }

    [Fact]
    public void Rejects_a_tampered_record()
    {
        var bytes = Vector.GetProperty("envelope_protobuf_hex").Hex();
        var port = Convert.FromHexString("060fa1");
        var at = bytes.AsSpan().IndexOf(port);
        bytes[at + 2] ^= 0x01;
        Assert.Throws<RecordVerificationException>(() => PeerRecord.ConsumeEnvelope(bytes));
    }

    [Fact]
    public void Rejects_a_record_signed_by_a_key_other_than_its_peers()
    {
        var other = PrivateKey.Generate(KeyType.Ed25519);
        var envelope = Envelope.Seal(other, PeerRecord.EnvelopeDomain, PeerRecord.EnvelopePayloadType, VectorRecord().ToProtobuf());
        var exception = Assert.Throws<RecordVerificationException>(() => PeerRecord.ConsumeEnvelope(envelope.ToProtobuf()));
        Assert.Contains(Peer.ToString(), exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_another_payload_type()
    {
        var envelope = Envelope.Seal(Key, PeerRecord.EnvelopeDomain, [0x03, 0x02], VectorRecord().ToProtobuf());
        Assert.Throws<RecordVerificationException>(() => PeerRecord.ConsumeEnvelope(envelope.ToProtobuf()));
    }

    [Fact]
    public void Will_not_seal_with_another_peers_key()
    {
        Assert.Throws<ArgumentException>(() => VectorRecord().Seal(PrivateKey.Generate(KeyType.Ed25519)));
    }

    [Fact]
    public void Skips_unknown_fields_and_undecodable_addresses()
    {
        // peer_id, then an unknown varint field 9, an AddressInfo holding an unknown multiaddr code (0x3f),
        // an AddressInfo with an unknown field next to a valid address, and seq last.
        var peerId = Peer.ToBytes();
        byte[] encoded =
        [
            0x0a, (byte)peerId.Length, .. peerId,
            0x48, 0x07,
            0x1a, 0x04, 0x0a, 0x02, 0x3f, 0x00,
            0x1a, 0x0e, 0x10, 0x01, 0x0a, 0x08, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x06, 0x0f, 0xa1, 0x18, 0x00,
            0x10, 0x05,
        ];
        var record = PeerRecord.FromProtobuf(encoded);
        Assert.Equal(new PeerRecord(Peer, 5, [Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001")]), record);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1005")]
    [InlineData("0a00")]
    [InlineData("0a03120100")]
    [InlineData("0a260024")]
    [InlineData("1a050a03047f00")]
    [InlineData("0b")]
    public void Rejects_malformed_records_with_the_format_exception(string hex)
    {
        Assert.ThrowsAny<WireFormatException>(() => PeerRecord.FromProtobuf(Convert.FromHexString(hex)));
    }

    [Fact]
    public void Rejects_records_over_the_size_bound_before_parsing()
    {
        Assert.ThrowsAny<WireFormatException>(() => PeerRecord.FromProtobuf(new byte[PeerRecord.MaxEncodedLength + 1]));
    }

    [Fact]
    public void Rejects_records_with_too_many_addresses()
    {
        var peerId = Peer.ToBytes();
        var tooMany = Enumerable.Repeat<byte[]>([0x1a, 0x00], PeerRecord.MaxAddresses + 1).SelectMany(b => b);
        byte[] encoded = [0x0a, (byte)peerId.Length, .. peerId, .. tooMany];
        Assert.ThrowsAny<WireFormatException>(() => PeerRecord.FromProtobuf(encoded));
        Assert.Throws<ArgumentException>(() => new PeerRecord(Peer, 1, Enumerable.Repeat(Multiaddr.Parse("/ip4/1.2.3.4/tcp/1"), PeerRecord.MaxAddresses + 1)));
    }

    [Fact]
    public void Seq_zero_is_omitted_as_proto3_does()
    {
        var encoded = new PeerRecord(Peer, 0, []).ToProtobuf();
        Assert.Equal([0x0a, (byte)Peer.Bytes.Length, .. Peer.Bytes], encoded);
        Assert.Equal(0UL, PeerRecord.FromProtobuf(encoded).Seq);
    }

    [Property(Arbitrary = [typeof(MultiaddrArbitraries)], MaxTest = 50)]
    public void Seal_then_consume_round_trips(ulong seq, Multiaddr[] addresses)
    {
        var record = new PeerRecord(Peer, seq, addresses.Take(20));
        var (envelope, consumed) = PeerRecord.ConsumeEnvelope(record.Seal(Key).ToProtobuf());
        Assert.Equal(record, consumed);
        Assert.Equal(record.ToProtobuf(), envelope.Payload.ToArray());
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        WireFormatAssert.Rejects(() => PeerRecord.FromProtobuf(bytes));
        try
        {
            PeerRecord.ConsumeEnvelope(bytes);
        }
        catch (Exception ex) when (ex is WireFormatException or RecordVerificationException)
        {
        }
    }

    [Property(Arbitrary = [typeof(MultiaddrArbitraries)], MaxTest = 200)]
    public void Mutated_records_decode_or_throw_the_format_exception(ulong seq, Multiaddr[] addresses, Mutation mutation)
    {
        var encoded = mutation.Apply(new PeerRecord(Peer, seq, addresses.Take(5)).ToProtobuf(), b => b);
        PeerRecord decoded;
        try
        {
            decoded = PeerRecord.FromProtobuf(encoded);
        }
        catch (WireFormatException)
        {
            return;
        }

        Assert.Equal(decoded, PeerRecord.FromProtobuf(decoded.ToProtobuf()));
    }
}
