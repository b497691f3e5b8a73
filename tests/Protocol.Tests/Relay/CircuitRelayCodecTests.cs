using System.Buffers;
using System.IO.Pipelines;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Relay;

namespace ToolNet.Protocol.Tests.Relay;

public sealed class CircuitRelayCodecTests
{
    private static readonly PeerId Relay = PeerId.FromPublicKey(PrivateKey.Generate(KeyType.Ed25519).GetPublicKey());

    [Fact]
    public void A_RESERVE_is_the_type_field_alone_with_its_zero_written()
    {
        // The schema's type is required (proto2), so RESERVE = 0 must be on the wire, not omitted as proto3 would.
        Assert.Equal(new byte[] { 0x08, 0x00 }, CircuitRelayCodec.ToBytes(new HopMessage { Type = HopMessageType.Reserve }));
        Assert.Equal(new byte[] { 0x08, 0x00 }, CircuitRelayCodec.ToBytes(new StopMessage { Type = StopMessageType.Connect }));
    }

    [Fact]
    public void A_reservation_answer_round_trips()
    {
        var address = Multiaddr.Parse($"/ip4/1.2.3.4/tcp/4001/p2p/{Relay}");
        var message = new HopMessage
        {
            Type = HopMessageType.Status,
            Status = RelayStatus.Ok,
            Reservation = new RelayReservation(1_764_800_000, [address.ToBytes()], [1, 2, 3]),
            Limit = new RelayLimit(120, 131072),
        };

        var decoded = CircuitRelayCodec.DecodeHop(CircuitRelayCodec.ToBytes(message));

        Assert.Equal(HopMessageType.Status, decoded.Type);
        Assert.Equal(RelayStatus.Ok, decoded.Status);
        Assert.Equal(1_764_800_000UL, decoded.Reservation!.Expire);
        Assert.Equal([address], CircuitRelayCodec.DecodeAddresses(decoded.Reservation.Addresses));
        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.Reservation.Voucher);
        Assert.Equal(new RelayLimit(120, 131072), decoded.Limit);
        Assert.Null(decoded.Peer);
    }

    [Fact]
    public void A_stop_CONNECT_round_trips_with_its_peer()
    {
        var message = new StopMessage { Type = StopMessageType.Connect, Peer = new RelayPeerInfo(Relay.ToBytes(), []), Limit = new RelayLimit(null, 10) };

        var decoded = CircuitRelayCodec.DecodeStop(CircuitRelayCodec.ToBytes(message));

        Assert.Equal(Relay, CircuitRelayCodec.ParsePeerId(decoded.Peer!));
        Assert.Equal(new RelayLimit(null, 10), decoded.Limit);
        Assert.Null(decoded.Status);
    }

    [Fact]
    public void Bad_input_is_rejected_as_a_format_error()
    {
        Assert.True(WireFormatAssert.Rejects(() => CircuitRelayCodec.DecodeHop([0x12, 0x02, 0x12, 0x00]))); // a peer without an id
        Assert.True(WireFormatAssert.Rejects(() => CircuitRelayCodec.DecodeHop([0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))); // type -1
        Assert.True(WireFormatAssert.Rejects(() => CircuitRelayCodec.DecodeStop([0x08, 0x00, 0x1A, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x20]))); // duration > 2^32
        Assert.True(WireFormatAssert.Rejects(() => CircuitRelayCodec.DecodeHop(new byte[CircuitRelayCodec.MaxMessageLength + 1])));
        Assert.True(WireFormatAssert.Rejects(() => CircuitRelayCodec.ParsePeerId(new RelayPeerInfo([1, 2, 3], []))));
    }

    [Fact]
    public void An_oversized_length_prefix_is_refused_before_the_body_arrives()
    {
        var buffer = new ReadOnlySequence<byte>([0x81, 0x20]); // 4097, and nothing of the body yet
        Assert.True(WireFormatAssert.Rejects(() => LengthPrefixedMessages.TryRead(ref buffer, CircuitRelayCodec.Hop, out _)));
    }

    [Fact]
    public async Task Reading_a_message_leaves_the_bytes_after_it_for_the_relayed_connection()
    {
        var pipe = new Pipe();
        await CircuitRelaySession.WriteAsync(pipe.Writer, new HopMessage { Type = HopMessageType.Status, Status = RelayStatus.Ok });
        await pipe.Writer.WriteAsync("\x13/multistream/1.0.0\n"u8.ToArray());
        await pipe.Writer.CompleteAsync();

        var answer = await CircuitRelaySession.ReadHopAsync(pipe.Reader);

        Assert.Equal(RelayStatus.Ok, answer.Status);
        Assert.Equal("\x13/multistream/1.0.0\n"u8.ToArray(), await pipe.Reader.ReadToEndAsync());
    }

    [Fact]
    public void A_voucher_is_sealed_by_its_relay_and_opens_only_as_a_voucher()
    {
        var relayKey = PrivateKey.Generate(KeyType.Ed25519);
        var relay = PeerId.FromPublicKey(relayKey.GetPublicKey());
        var voucher = new RelayVoucher(relay, Relay, 1_764_800_000);

        var sealedVoucher = voucher.Seal(relayKey).ToProtobuf();

        Assert.Equal(voucher, RelayVoucher.Open(sealedVoucher));
        var otherKey = PrivateKey.Generate(KeyType.Ed25519);
        Assert.Throws<ArgumentException>(() => voucher.Seal(otherKey));
        var forged = Envelope.Seal(otherKey, RelayVoucher.EnvelopeDomain, RelayVoucher.EnvelopePayloadType, voucher.ToProtobuf()).ToProtobuf();
        Assert.Throws<RecordVerificationException>(() => RelayVoucher.Open(forged));
        var otherDomain = Envelope.Seal(relayKey, PeerRecord.EnvelopeDomain, RelayVoucher.EnvelopePayloadType, voucher.ToProtobuf()).ToProtobuf();
        Assert.Throws<RecordVerificationException>(() => RelayVoucher.Open(otherDomain));
    }
}
