using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Perf;

namespace ToolNet.Node.Tests;

public sealed class NodeServicesTests
{
    // Regression (found by the js-libp2p interop suite, whose peer opens 100 echo streams at once): the node's echo
    // and perf servers had the default share of 32 inbound streams per connection, and reset the rest.
    [Fact]
    public async Task The_node_serves_a_hundred_concurrent_echo_and_perf_streams_on_one_connection()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await NodeServices.StartAsync(
            PrivateKey.Generate(KeyType.Ed25519), [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")], enablePerf: true, NullLoggerFactory.Instance, deadline.Token);
        await using var client = await NodeServices.StartAsync(
            PrivateKey.Generate(KeyType.Ed25519), [], enablePerf: false, NullLoggerFactory.Instance, deadline.Token);
        var connection = await client.Host.ConnectAsync(server.DialableAddresses[0], deadline.Token);

        var payloads = Enumerable.Range(1, 100).Select(i => Enumerable.Repeat((byte)i, 32 * 1024).ToArray()).ToArray();
        var echoes = await Task.WhenAll(payloads.Select(p => EchoService.EchoAsync(connection, p, deadline.Token)));
        Assert.Equal(payloads, echoes);

        var perfs = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => PerfService.PerfAsync(connection, 32 * 1024, 32 * 1024, deadline.Token)));
        Assert.All(perfs, p => Assert.Equal(32UL * 1024, p.DownloadBytes));
        Assert.Equal(0, server.Host.Counters[ToolNet.Protocol.Host.Refusal.ProtocolStreamLimit]);
    }
}
