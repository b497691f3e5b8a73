using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Multistream;

namespace ToolNet.Protocol.Tests.Host;

public class HostTests
{
    private const string EchoProtocol = "/test/echo/1.0.0";

    private static async Task EchoAsync(IStream stream, CancellationToken cancellationToken)
    {
        await stream.Input.CopyToAsync(stream.Output, cancellationToken);
        await stream.Output.CompleteAsync();
    }

    [Fact]
    public async Task Changes_of_our_protocols_and_listen_addresses_are_reported()
    {
        await using var host = await TestHosts.StartAsync();
        var changes = new List<LocalPeerChange>();
        host.LocalPeerChanged += (_, change) => changes.Add(change);

        host.SetStreamHandler(EchoProtocol, EchoAsync);
        host.SetStreamHandler(EchoProtocol, EchoAsync); // replaced, the protocol set is the same
        host.RemoveStreamHandler(EchoProtocol);
        host.RemoveStreamHandler(EchoProtocol); // not there any more
        var added = await host.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        Assert.Contains(added, host.ListenAddresses);
        Assert.True(await host.StopListeningAsync(added));
        Assert.False(await host.StopListeningAsync(added));

        Assert.DoesNotContain(added, host.ListenAddresses);
        Assert.Single(host.ListenAddresses);
        Assert.Equal([LocalPeerChange.Protocols, LocalPeerChange.Protocols, LocalPeerChange.ListenAddresses, LocalPeerChange.ListenAddresses], changes);
    }

    [Fact]
    public async Task Two_hosts_connect_over_tcp_noise_yamux_and_run_a_protocol()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        server.SetStreamHandler(EchoProtocol, EchoAsync);

        var connection = await client.ConnectAsync(TestHosts.DialAddress(server));
        Assert.Equal(server.PeerId, connection.RemotePeer);
        Assert.Equal("/noise", connection.Security);
        Assert.Equal("/yamux/1.0.0", connection.Muxer);

        var stream = await client.NewStreamAsync(server.PeerId, [EchoProtocol]);
        var payload = new byte[1 << 20];
        Random.Shared.NextBytes(payload);
        // Read while writing: an echo of more than the windows and buffers hold deadlocks otherwise.
        var echoed = stream.Input.ReadToEndAsync();
        await stream.Output.WriteAsync(payload);
        await stream.Output.CompleteAsync();
        Assert.Equal(payload, await echoed);
        await stream.DisposeAsync();

        Assert.Single(client.GetConnections(server.PeerId));
        Assert.Single(server.GetConnections(client.PeerId));
    }

    [Fact]
    public async Task An_unknown_protocol_is_refused_with_a_negotiation_error_and_counted()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        await client.ConnectAsync(TestHosts.DialAddress(server));

        var error = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            async () => await client.NewStreamAsync(server.PeerId, ["/nobody/1.0.0"]));
        Assert.Equal(NegotiationFailure.NotSupported, error.Failure);
        await WaitUntilAsync(() => server.Counters[Refusal.StreamNegotiationFailed] == 1);
    }

    [Fact]
    public async Task Dialling_the_wrong_peer_id_fails_and_leaves_no_connection()
    {
        await using var server = await TestHosts.StartAsync();
        await using var other = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var wrong = server.ListenAddresses[0].WithPeerId(other.PeerId);

        var error = await Assert.ThrowsAsync<DialException>(async () => await client.ConnectAsync(wrong));
        Assert.Contains(error.Attempts, a => a.Error is PeerIdMismatchException);
        Assert.Empty(client.GetConnections());
        await WaitUntilAsync(() => server.GetConnections().Count == 0);
    }

    [Fact]
    public async Task A_protocol_stream_limit_resets_excess_streams_and_counts_them()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var release = new TaskCompletionSource();
        server.SetStreamHandler(EchoProtocol, async (stream, ct) => await release.Task.WaitAsync(ct), new StreamHandlerOptions { MaxInboundStreamsPerConnection = 2 });
        await client.ConnectAsync(TestHosts.DialAddress(server));

        var streams = new List<IStream>();
        for (var i = 0; i < 2; i++)
        {
            streams.Add(await client.NewStreamAsync(server.PeerId, [EchoProtocol]));
        }

        // The third is reset by the server after negotiation; the reset may overtake the protocol confirmation.
        var third = await Record.ExceptionAsync(async () =>
        {
            await using var stream = await client.NewStreamAsync(server.PeerId, [EchoProtocol]);
            await stream.Input.ReadAsync();
        });
        Assert.IsType<StreamResetException>(third);
        await WaitUntilAsync(() => server.Counters[Refusal.ProtocolStreamLimit] == 1);
        release.SetResult();
        foreach (var stream in streams)
        {
            await stream.DisposeAsync();
        }

        await WaitUntilAsync(() => server.GetConnections().Single().StreamCount == 0);
    }

    [Fact]
    public async Task Concurrent_connects_to_one_peer_share_a_single_dial()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var address = TestHosts.DialAddress(server);

        var connections = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ConnectAsync(address).AsTask()));

        Assert.Single(connections.Distinct());
        Assert.Single(client.GetConnections(server.PeerId));
    }

    [Fact]
    public async Task Closing_a_connection_removes_it_from_both_hosts()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var closed = new TaskCompletionSource<IConnection>();
        server.ConnectionClosed += (_, c) => closed.TrySetResult(c);
        var connection = await client.ConnectAsync(TestHosts.DialAddress(server));

        await connection.CloseAsync();

        Assert.Equal(client.PeerId, (await closed.Task.WaitAsync(TimeSpan.FromSeconds(30))).RemotePeer);
        await WaitUntilAsync(() => client.ConnectionCount == 0 && server.ConnectionCount == 0);
    }

    [Fact]
    public async Task The_connection_manager_trims_down_to_the_low_watermark_but_spares_protected_peers()
    {
        await using var server = await TestHosts.StartAsync(o => o with
        {
            ConnectionManager = new ConnectionManagerOptions { LowWater = 2, HighWater = 3, GracePeriod = TimeSpan.Zero },
        });
        var clients = new List<Libp2pHost>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var c = await TestHosts.StartAsync();
                clients.Add(c);
                await c.ConnectAsync(TestHosts.DialAddress(server));
            }

            await WaitUntilAsync(() => server.ConnectionCount == 3);
            server.ConnectionManager.Protect(clients[0].PeerId, "test");
            var extra = await TestHosts.StartAsync();
            clients.Add(extra);
            await extra.ConnectAsync(TestHosts.DialAddress(server));

            await WaitUntilAsync(() => server.ConnectionCount == 2);
            Assert.NotEmpty(server.GetConnections(clients[0].PeerId));
            Assert.Equal(2, server.Counters[Refusal.Trimmed]);
        }
        finally
        {
            foreach (var c in clients)
            {
                await c.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Dialling_from_the_listen_port_shows_the_remote_our_listen_port()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync(o => o with { DialFromListenPort = true });

        var connection = await client.ConnectAsync(TestHosts.DialAddress(server));

        Assert.Equal(client.ListenAddresses[0], connection.LocalAddress);
        await WaitUntilAsync(() => server.GetConnections(client.PeerId).Count == 1);
        Assert.Equal(client.ListenAddresses[0], server.GetConnections(client.PeerId)[0].RemoteAddress);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
