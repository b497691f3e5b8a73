namespace ToolNet.Node.Tests;

/// <summary><c>toolnet node --role relay</c>, <c>--relay</c>, <c>--peer</c> and the event lines, as processes.</summary>
public sealed class RelayNodeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("toolnet-relay-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task A_node_reserves_on_a_relay_and_another_reaches_it_through_the_relay()
    {
        await using var relay = await RunningNode.StartAsync(Folder("relay"), "--role", "relay");
        await using var target = await RunningNode.StartAsync(Folder("target"), "--relay", relay.TcpAddress);

        var reservation = await target.NextEventAsync("reservation");
        Assert.Equal(relay.PeerId, reservation.GetProperty("relay").GetString());
        var circuit = reservation.GetProperty("addrs").EnumerateArray().Select(a => a.GetString()!)
            .First(a => a.StartsWith(relay.TcpAddress + "/p2p-circuit/p2p/", StringComparison.Ordinal));
        Assert.EndsWith("/p2p/" + target.PeerId, circuit, StringComparison.Ordinal);
        Assert.True(reservation.GetProperty("expires").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        // A peering node keeps a relayed connection to it; both report it as relayed.
        await using var initiator = await RunningNode.StartAsync(Folder("initiator"), "--peer", circuit);
        var outbound = await initiator.NextEventAsync("connection", e => e.GetProperty("peer").GetString() == target.PeerId);
        Assert.True(outbound.GetProperty("relayed").GetBoolean());
        var inbound = await target.NextEventAsync("connection", e => e.GetProperty("peer").GetString() != relay.PeerId);
        Assert.True(inbound.GetProperty("relayed").GetBoolean());

        // The client commands dial through the relay too.
        var ping = await ToolnetProcess.RunAsync("ping", circuit, "-n", "2", "--json");
        Assert.True(ping.ExitCode == 0, ping.Stderr);
        var id = await ToolnetProcess.RunAsync("id", circuit, "--json");
        Assert.True(id.ExitCode == 0, id.Stderr);
        Assert.Contains(target.PeerId, id.Stdout, StringComparison.Ordinal);
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_directory, name)).FullName;
}
