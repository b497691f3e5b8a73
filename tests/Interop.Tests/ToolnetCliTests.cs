using System.Text.Json;

namespace ToolNet.Interop.Tests;

/// <summary>One <c>toolnet node</c> process shared by the tests of a class.</summary>
public sealed class ToolnetNodeFixture : IAsyncLifetime
{
    private ToolnetNodeProcess? _node;

    internal ToolnetNodeProcess Node => _node ?? throw new InvalidOperationException("the node has not started");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        _node = await ToolnetNodeProcess.StartAsync(timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}

/// <summary>
/// C# to C# across processes: the <c>toolnet id</c>, <c>ping</c> and <c>perf</c> commands against a running
/// <c>toolnet node</c>, over TCP and WebSocket, with their <c>--json</c> output checked; and the same client commands
/// against js-libp2p.
/// </summary>
public sealed class ToolnetCliTests(ToolnetNodeFixture fixture) : IClassFixture<ToolnetNodeFixture>
{
    private const long PerfBytes = 64 * 1024 * 1024;

    private ToolnetNodeProcess Node => fixture.Node;

    [Theory]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.WebSocket)]
    public async Task Id_reports_the_node(Transport transport)
    {
        using var deadline = Wait.Deadline(60);

        var id = await ToolnetCli.RunJsonAsync(deadline.Token, "id", Node.Address(transport));

        Assert.Equal(Node.PeerId, id.GetProperty("peerId").GetString());
        Assert.StartsWith("toolnet/", id.GetProperty("agentVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal("ipfs/0.1.0", id.GetProperty("protocolVersion").GetString());
        Assert.Equal(
            ["/echo/1.0.0", "/floodsub/1.0.0", "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0", "/meshsub/1.0.0", "/meshsub/1.1.0", "/meshsub/1.2.0", "/perf/1.0.0"],
            Strings(id.GetProperty("protocols")).Order(StringComparer.Ordinal));
        var listening = Node.Addresses.Select(WithoutPeerId).Order().ToArray();
        Assert.Equal(listening, Strings(id.GetProperty("listenAddrs")).Order());
        var record = id.GetProperty("signedPeerRecord");
        Assert.Equal(listening, Strings(record.GetProperty("addrs")).Order());
        Assert.True(record.GetProperty("seq").GetUInt64() > 0);
        Assert.StartsWith("/ip4/127.0.0.1/tcp/", id.GetProperty("observedAddr").GetString(), StringComparison.Ordinal);
        AssertConnection(id.GetProperty("connection"), transport);
    }

    [Theory]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.WebSocket)]
    public async Task Ping_reports_round_trips(Transport transport)
    {
        using var deadline = Wait.Deadline(60);

        var ping = await ToolnetCli.RunJsonAsync(deadline.Token, "ping", Node.Address(transport), "-n", "3");

        Assert.Equal(Node.PeerId, ping.GetProperty("peerId").GetString());
        Assert.Equal(3, ping.GetProperty("rttsMs").GetArrayLength());
        Assert.All(ping.GetProperty("rttsMs").EnumerateArray(), rtt => Assert.True(rtt.GetDouble() > 0));
    }

    [Theory]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.WebSocket)]
    public async Task Perf_moves_64_MiB_up_and_64_MiB_down(Transport transport)
    {
        using var deadline = Wait.Deadline(120);

        var perf = await ToolnetCli.RunJsonAsync(deadline.Token, "perf", Node.Address(transport), "--upload", "64MiB", "--download", "64MiB");

        Assert.Equal(PerfBytes, perf.GetProperty("uploadBytes").GetInt64());
        Assert.Equal(PerfBytes, perf.GetProperty("downloadBytes").GetInt64());
    }

    [Fact]
    public async Task Perf_opens_and_closes_connections_in_sequence()
    {
        using var deadline = Wait.Deadline(60);

        var perf = await ToolnetCli.RunJsonAsync(deadline.Token, "perf", Node.Address(Transport.Tcp), "--connections", "20");

        Assert.Equal(20, perf.GetProperty("connections").GetInt32());
    }

    [Theory]
    [InlineData(Transport.Tcp)]
    [InlineData(Transport.WebSocket)]
    public async Task Id_and_ping_work_against_js(Transport transport)
    {
        using var deadline = Wait.Deadline(60);
        await using var js = await JsPeer.StartAsync();
        var address = transport == Transport.Tcp ? js.TcpAddress : js.WsAddress;

        // toolnet id asks for identify while the identify of every new connection runs: js resets a second identify
        // stream, so the two must share one.
        var id = await ToolnetCli.RunJsonAsync(deadline.Token, "id", address);
        var ping = await ToolnetCli.RunJsonAsync(deadline.Token, "ping", address, "-n", "2");

        Assert.Equal(js.PeerId, id.GetProperty("peerId").GetString());
        Assert.StartsWith("js-libp2p/", id.GetProperty("agentVersion").GetString(), StringComparison.Ordinal);
        Assert.Equal(js.Protocols.Order(StringComparer.Ordinal), Strings(id.GetProperty("protocols")).Order(StringComparer.Ordinal));
        Assert.Equal(js.Addresses.Select(WithoutPeerId).Order(), Strings(id.GetProperty("signedPeerRecord").GetProperty("addrs")).Order());
        AssertConnection(id.GetProperty("connection"), transport);
        Assert.Equal(2, ping.GetProperty("rttsMs").GetArrayLength());
        Assert.Empty(js.Errors);
    }

    private static void AssertConnection(JsonElement connection, Transport transport)
    {
        Assert.Equal("/noise", connection.GetProperty("security").GetString());
        Assert.Equal("/yamux/1.0.0", connection.GetProperty("muxer").GetString());
        Assert.Equal(transport == Transport.WebSocket, connection.GetProperty("remoteAddr").GetString()!.EndsWith("/ws", StringComparison.Ordinal));
    }

    private static string WithoutPeerId(string address) => address[..address.IndexOf("/p2p/", StringComparison.Ordinal)];

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
