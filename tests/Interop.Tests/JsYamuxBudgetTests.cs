using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Interop.Tests;

/// <summary>The per-connection yamux receive budget against js-libp2p: streams js opens beyond what the budget can
/// cover are refused with RST, the connection survives, and the room comes back when streams end.</summary>
public class JsYamuxBudgetTests
{
    private const string HoldingEcho = "/echo/1.0.0";
    private const int BudgetWindows = 4;
    private const int Streams = 12;

    [Fact]
    public async Task Streams_beyond_the_budget_are_refused_and_the_connection_carries_on()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var identity = PrivateKey.Generate(KeyType.Ed25519);
        var muxerOptions = new YamuxOptions { MaxConnectionReceiveBuffer = BudgetWindows * YamuxOptions.SpecInitialWindowSize };
        await using var host = new Libp2pHost(new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport()],
            Security = [new NoiseSecurity(identity, [YamuxMuxer.Id], NullLogger.Instance)],
            Muxers = [new YamuxMuxer(muxerOptions)],
            ListenAddresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
        });
        await host.StartAsync(deadline.Token);

        // An echo that holds each stream (and so its initial window) until released.
        var held = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.SetStreamHandler(HoldingEcho, async (stream, ct) =>
        {
            Interlocked.Increment(ref held);
            await release.Task.WaitAsync(ct);
            await stream.Input.CopyToAsync(stream.Output, ct);
            await stream.Output.CompleteAsync();
        });

        await using var js = await JsPeer.StartAsync();
        var address = host.ListenAddresses[0].WithPeerId(host.PeerId).ToString();
        await js.CommandAsync("dial", new { addr = address }, deadline.Token);

        var burst = js.CommandAsync("streams", new { addr = address, count = Streams, bytes = 1024 }, deadline.Token);

        // js's own identify stream may hold one window for a moment, so at least BudgetWindows - 1 get through; the
        // others are refused at their SYN, at once.
        while (Volatile.Read(ref held) < BudgetWindows - 1)
        {
            await Task.Delay(10, deadline.Token);
        }

        await Task.Delay(1000, deadline.Token);
        var admitted = Volatile.Read(ref held);
        release.SetResult();
        var outcome = await burst;

        Assert.InRange(admitted, BudgetWindows - 1, BudgetWindows);
        Assert.True(admitted == outcome["succeeded"]!.GetValue<int>(), outcome.ToJsonString());
        Assert.Equal(Streams - admitted, outcome["failed"]!.GetValue<int>());

        // The same connection, its streams ended: the budget is whole again.
        var again = await js.CommandAsync("streams", new { addr = address, count = BudgetWindows - 1, bytes = 64 * 1024 }, deadline.Token);
        Assert.True(BudgetWindows - 1 == again["succeeded"]!.GetValue<int>(), again.ToJsonString());
        Assert.Equal(outcome["connectionId"]!.GetValue<string>(), again["connectionId"]!.GetValue<string>());
        Assert.Single(host.GetConnections());
    }
}
