using System.Security.Cryptography;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Relay;

namespace ToolNet.Protocol.Tests.Relay;

/// <summary>Circuit relay v2 end to end over TCP on 127.0.0.1: a relay, a reserving peer, a dialling peer.</summary>
public sealed class CircuitRelayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_reservation_gives_circuit_addresses_and_a_voucher_signed_by_the_relay()
    {
        await using var relay = await RelayTestPeer.StartAsync(relay: true);
        await using var target = await RelayTestPeer.StartAsync();

        var reservation = await target.ReserveOnAsync(relay);

        Assert.Equal(relay.Host.PeerId, reservation.Relay);
        Assert.Contains(relay.DialAddress.Encapsulate(CircuitRelayTransport.ListenAddress), reservation.Addresses);
        Assert.InRange(reservation.Expires, DateTimeOffset.UtcNow.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.Equal(new RelayLimit(120, 128 * 1024), reservation.Limit);
        Assert.Equal(1, relay.Relay!.ReservationCount);
        Assert.Equal(1, relay.Relay.Counters[RelayCounter.ReservationAccepted]);
    }

    [Fact]
    public async Task Echo_and_identify_run_over_a_circuit_both_ways_and_the_connection_is_limited()
    {
        await using var relay = await RelayTestPeer.StartAsync(relay: true);
        await using var target = await RelayTestPeer.StartAsync();
        await using var initiator = await RelayTestPeer.StartAsync(listenOnCircuits: false);
        await target.ReserveOnAsync(relay);

        var connection = await initiator.Host.ConnectAsync(target.CircuitAddressVia(relay));

        Assert.True(connection.IsLimited);
        Assert.Equal(target.Host.PeerId, connection.RemotePeer);
        Assert.True(connection.RemoteAddress.IsRelayed);
        var data = RandomNumberGenerator.GetBytes(32 * 1024);
        Assert.Equal(data, await EchoService.EchoAsync(connection, data));

        // The other way: the target opens a stream on the connection it accepted through the relay.
        var accepted = await WaitForAsync(() => target.Host.GetConnections(initiator.Host.PeerId) is [var only, ..] ? only : null);
        Assert.True(accepted.IsLimited);
        Assert.Equal(Direction.Inbound, accepted.Direction);
        Assert.Equal(data, await EchoService.EchoAsync(accepted, data));

        await using var identify = new IdentifyService(initiator.Host, initiator.Identity, IdentifyOptions.Default with { IdentifyOnConnect = false });
        await using var identified = new IdentifyService(target.Host, target.Identity, IdentifyOptions.Default with { IdentifyOnConnect = false });
        var result = await identify.IdentifyAsync(connection);
        Assert.Equal(target.Host.PeerId, result.Peer);
        Assert.Equal(1, relay.Relay!.Counters[RelayCounter.CircuitOpened]);
    }

    [Fact]
    public async Task Protocols_that_did_not_opt_in_are_refused_on_a_circuit()
    {
        await using var relay = await RelayTestPeer.StartAsync(relay: true);
        await using var target = await RelayTestPeer.StartAsync();
        await using var initiator = await RelayTestPeer.StartAsync(listenOnCircuits: false);
        target.Host.SetStreamHandler("/test/direct-only/1.0.0", (_, _) => Task.CompletedTask);
        await target.ReserveOnAsync(relay);

        var connection = await initiator.Host.ConnectAsync(target.CircuitAddressVia(relay));

        await Assert.ThrowsAsync<ToolNet.Protocol.Multistream.ProtocolNegotiationException>(async () => await connection.NewStreamAsync(["/test/direct-only/1.0.0"]));
        Assert.Equal(1, target.Host.Counters[Refusal.LimitedConnection]);
    }

    [Fact]
    public async Task Connecting_to_a_peer_without_a_reservation_is_refused_with_NO_RESERVATION()
    {
        await using var relay = await RelayTestPeer.StartAsync(relay: true);
        await using var target = await RelayTestPeer.StartAsync();
        await using var initiator = await RelayTestPeer.StartAsync(listenOnCircuits: false);
        await target.Host.ConnectAsync(relay.DialAddress);

        var failure = await Assert.ThrowsAsync<DialException>(async () => await initiator.Host.ConnectAsync(target.CircuitAddressVia(relay)));

        var refused = Assert.IsType<RelayRefusedException>(failure.Attempts.Single().Error);
        Assert.Equal(RelayStatus.NoReservation, refused.Status);
        Assert.Equal(1, relay.Relay!.Counters[RelayCounter.CircuitNoReservation]);
    }

    [Fact]
    public async Task A_circuit_is_cut_at_its_data_cap_and_the_relay_counts_it()
    {
        await using var relay = await RelayTestPeer.StartAsync(relayOptions: RelayServiceOptions.Default with { CircuitData = 64 * 1024 });
        await using var target = await RelayTestPeer.StartAsync();
        await using var initiator = await RelayTestPeer.StartAsync(listenOnCircuits: false);
        await target.ReserveOnAsync(relay);
        var connection = await initiator.Host.ConnectAsync(target.CircuitAddressVia(relay));

        await Assert.ThrowsAnyAsync<IOException>(() => EchoService.EchoAsync(connection, new byte[256 * 1024]));

        await WaitForAsync(() => relay.Relay!.Counters[RelayCounter.CircuitDataLimit] == 1 ? (object)true : null);
        await WaitForAsync(() => connection.Completion.IsCompleted ? (object)true : null);
    }

    [Fact]
    public async Task Reservations_over_the_per_IP_cap_are_refused_and_a_disconnect_frees_the_slot()
    {
        await using var relay = await RelayTestPeer.StartAsync(relayOptions: RelayServiceOptions.Default with { MaxReservationsPerIp = 1 });
        await using var first = await RelayTestPeer.StartAsync();
        await using var second = await RelayTestPeer.StartAsync();
        await first.ReserveOnAsync(relay);

        var refused = await Assert.ThrowsAsync<RelayRefusedException>(() => second.ReserveOnAsync(relay));
        Assert.Equal(RelayStatus.ReservationRefused, refused.Status);
        Assert.Equal(1, relay.Relay!.Counters[RelayCounter.ReservationRefused]);

        await first.Host.DisconnectAsync(relay.Host.PeerId);
        await WaitForAsync(() => relay.Relay.ReservationCount == 0 ? (object)true : null);
        await second.ReserveOnAsync(relay);
    }

    [Fact]
    public async Task A_hop_request_of_the_wrong_type_is_answered_and_counted_and_the_relay_keeps_serving()
    {
        await using var relay = await RelayTestPeer.StartAsync(relay: true);
        await using var client = await RelayTestPeer.StartAsync(listenOnCircuits: false);
        var connection = await client.Host.ConnectAsync(relay.DialAddress);

        var stream = await connection.NewStreamAsync([RelayService.HopProtocolId]);
        await CircuitRelaySession.WriteAsync(stream.Output, new HopMessage { Type = HopMessageType.Status, Status = RelayStatus.Ok });
        var answer = await CircuitRelaySession.ReadHopAsync(stream.Input);
        Assert.Equal(RelayStatus.UnexpectedMessage, answer.Status);
        await stream.DisposeAsync();

        var garbage = await connection.NewStreamAsync([RelayService.HopProtocolId]);
        await garbage.Output.WriteAsync(new byte[] { 3, 0x08, 0xFF, 0xFF });
        var malformed = await CircuitRelaySession.ReadHopAsync(garbage.Input);
        Assert.Equal(RelayStatus.MalformedMessage, malformed.Status);
        await garbage.DisposeAsync();

        Assert.Equal(2, relay.Relay!.Counters[RelayCounter.MalformedRequest]);
        await client.Transport.ReserveAsync(connection);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold in time");
            await Task.Delay(20);
        }
    }
}
