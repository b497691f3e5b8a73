using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Relay;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>
/// Circuit relay v2 with js-libp2p (@libp2p/circuit-relay-v2): a js relay carrying two of our nodes, and our relay
/// carrying two js nodes, with identify, ping and echo over the circuit both ways. Relayed connections are limited on
/// both sides; only protocols that opted in (identify, ping, echo here) run on them.
/// </summary>
public sealed class JsRelayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_js_relay_carries_two_of_our_nodes()
    {
        using var deadline = Wait.Deadline(120);
        await using var relay = await JsPeer.StartAsync("--relay-server", "--listen", "/ip4/127.0.0.1/tcp/0");
        Assert.Contains(RelayService.HopProtocolId, relay.Protocols);
        var relayAddress = Multiaddr.Parse(relay.TcpAddress);
        await using var target = await CSharpNode.StartAsync(output, new NatTraversalSettings { Relays = [relayAddress] }, deadline.Token);
        await using var initiator = await CSharpNode.StartAsync(output, deadline.Token);
        await Wait.UntilAsync(() => target.Services.Reservations!.Addresses.Count > 0, "a reservation on the js relay", deadline.Token);
        var reservation = Assert.Single(target.Services.RelayTransport.Reservations);
        Assert.Equal(relay.PeerId, reservation.Relay.ToString());
        Assert.NotNull(reservation.Limit);

        var circuit = relayAddress.Encapsulate(CircuitRelayTransport.ListenAddress).WithPeerId(target.Host.PeerId);
        var connection = await initiator.Host.ConnectAsync(circuit, deadline.Token);

        Assert.True(connection.IsLimited);
        Assert.Equal(target.Host.PeerId, connection.RemotePeer);
        var identified = await initiator.Services.Identify.IdentifyAsync(connection, deadline.Token);
        Assert.Equal(target.Host.PeerId, identified.Peer);
        Assert.Contains(circuit.WithoutPeerId(), identified.ListenAddresses);
        var data = RandomBytes(16 * 1024);
        Assert.Equal(data, await EchoService.EchoAsync(connection, data, deadline.Token));
        Assert.Equal(2, (await initiator.Services.Ping.PingAsync(connection, 2, deadline.Token)).Count);

        // The target, which accepted the circuit, opens streams on it too.
        await Wait.UntilAsync(() => target.Host.GetConnections(initiator.Host.PeerId).Count == 1, "the target registers the circuit", deadline.Token);
        var accepted = target.Host.GetConnections(initiator.Host.PeerId)[0];
        Assert.True(accepted.IsLimited);
        Assert.Equal(Direction.Inbound, accepted.Direction);
        Assert.Equal(data, await EchoService.EchoAsync(accepted, data, deadline.Token));
        Assert.Empty(relay.Errors);
    }

    [Fact]
    public async Task Our_relay_carries_two_js_nodes()
    {
        using var deadline = Wait.Deadline(120);
        await using var relay = await CSharpNode.StartAsync(output, new NatTraversalSettings { ServeRelay = true }, deadline.Token);
        var relayAddress = relay.Address(Transport.Tcp);
        await using var target = await JsPeer.StartAsync("--relay-client", "--listen", "/ip4/127.0.0.1/tcp/0", "--listen", relayAddress + "/p2p-circuit");
        await using var initiator = await JsPeer.StartAsync("--relay-client", "--listen", "/ip4/127.0.0.1/tcp/0");
        var addresses = (await target.CommandAsync("waitForAddress", new { contains = "/p2p-circuit", timeoutMs = 30_000 }, deadline.Token))["addrs"]!.AsArray();
        var circuit = addresses.Select(a => a!.GetValue<string>()).Single(a => a.StartsWith(relayAddress + "/p2p-circuit/p2p/", StringComparison.Ordinal));
        // js may renew at once (it reserves again when it learns more of the relay's addresses): at least one.
        Assert.True(relay.Services.Relay!.Counters[RelayCounter.ReservationAccepted] >= 1);
        Assert.Equal(1, relay.Services.Relay.ReservationCount);

        var dial = await initiator.CommandAsync("dial", new { addr = circuit }, deadline.Token);
        Assert.True(dial["limited"]!.GetValue<bool>());
        Assert.Equal(target.PeerId, dial["remotePeer"]!.GetValue<string>());
        // On that connection from here on: js, asked for a peer it reaches only through a limited connection, dials its
        // direct addresses (learned by identify) for a better one, and on 127.0.0.1 that works.
        var circuitId = dial["connectionId"]!.GetValue<string>();
        var identify = await initiator.CommandAsync("identify", new { connectionId = circuitId }, deadline.Token);
        Assert.Equal(target.PeerId, identify["peerId"]!.GetValue<string>());
        var data = RandomBytes(16 * 1024);
        var echo = await initiator.CommandAsync("echo", new { connectionId = circuitId, dataBase64 = Convert.ToBase64String(data) }, deadline.Token);
        Assert.Equal(data, Convert.FromBase64String(echo["dataBase64"]!.GetValue<string>()));
        var ping = await initiator.CommandAsync("ping", new { connectionId = circuitId, count = 2 }, deadline.Token);
        Assert.Equal(2, ping["rtts"]!.AsArray().Count);

        // The other way, on the circuit the target accepted.
        var accepted = (await target.CommandAsync("connections", null, deadline.Token))["connections"]!.AsArray()
            .First(c => c!["peerId"]!.GetValue<string>() == initiator.PeerId && c["limited"]!.GetValue<bool>())!;
        Assert.Contains("/p2p-circuit", accepted["remoteAddr"]!.GetValue<string>(), StringComparison.Ordinal);
        var back = await target.CommandAsync("echo", new { connectionId = accepted["connectionId"]!.GetValue<string>(), dataBase64 = Convert.ToBase64String(data) }, deadline.Token);
        Assert.Equal(data, Convert.FromBase64String(back["dataBase64"]!.GetValue<string>()));

        Assert.Equal(1, relay.Services.Relay.Counters[RelayCounter.CircuitOpened]);
        Assert.True(relay.Services.Relay.Counters.RelayedBytes >= 4 * data.Length);
        Assert.Empty(target.Errors);
        Assert.Empty(initiator.Errors);
    }

    private static byte[] RandomBytes(int length) => System.Security.Cryptography.RandomNumberGenerator.GetBytes(length);
}
