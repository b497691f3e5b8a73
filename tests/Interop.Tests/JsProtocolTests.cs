using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Perf;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>Ping, echo, perf and many concurrent streams between our node and js-libp2p, each run by both sides over
/// one connection, on every transport, whoever dials.</summary>
public sealed class JsProtocolTests(JsPeerFixture fixture, ITestOutputHelper output) : JsInteropTest(fixture, output)
{
    private const ulong PerfBytes = 64 * 1024 * 1024;

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public async Task Ping_both_ways(Transport transport, Dialer dialer)
    {
        await RunAsync(transport, dialer, async session =>
        {
            var rtts = await session.Node.Services.Ping.PingAsync(session.Connection, 3, session.Token);
            Assert.Equal(3, rtts.Count);
            Assert.All(rtts, rtt => Assert.True(rtt > TimeSpan.Zero));

            var ping = await Js.CommandAsync("ping", new { peerId = session.PeerId, count = 3 }, session.Token);
            Assert.Equal(session.JsConnectionId, ping["connectionId"]!.GetValue<string>());
            Assert.Equal(3, ping["rtts"]!.AsArray().Count);
        });
    }

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public async Task Echo_both_ways(Transport transport, Dialer dialer)
    {
        await RunAsync(transport, dialer, async session =>
        {
            var payload = RandomBytes(1024 * 1024 + 17);
            Assert.Equal(payload, await EchoService.EchoAsync(session.Connection, payload, session.Token));
            Assert.Empty(await EchoService.EchoAsync(session.Connection, ReadOnlyMemory<byte>.Empty, session.Token));

            // js sends the protocol proposal and waits for our answer, or (lazy) sends its data right behind it.
            foreach (var lazy in new[] { false, true })
            {
                var data = RandomBytes(300_000);
                var echo = await Js.CommandAsync("echo", new { peerId = session.PeerId, dataBase64 = Convert.ToBase64String(data), lazy }, session.Token);
                Assert.Equal(data.Length, echo["bytes"]!.GetValue<int>());
                Assert.Equal(data, Convert.FromBase64String(echo["dataBase64"]!.GetValue<string>()));
            }
        });
    }

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public async Task Perf_64_MiB_up_and_down_both_ways(Transport transport, Dialer dialer)
    {
        await RunAsync(transport, dialer, async session =>
        {
            var ours = await PerfService.PerfAsync(session.Connection, PerfBytes, PerfBytes, session.Token);
            Assert.Equal(PerfBytes, ours.UploadBytes);
            Assert.Equal(PerfBytes, ours.DownloadBytes);

            var theirs = await Js.CommandAsync("perf", new { peerId = session.PeerId, upload = PerfBytes, download = PerfBytes }, session.Token);
            Assert.Equal(PerfBytes, theirs["uploadBytes"]!.GetValue<ulong>());
            Assert.Equal(PerfBytes, theirs["downloadBytes"]!.GetValue<ulong>());

            // js's optimistic protocol selection: the 8-byte request goes out with the protocol proposal.
            var lazy = await Js.CommandAsync("perf", new { peerId = session.PeerId, upload = 1 << 20, download = 1 << 20, lazy = true }, session.Token);
            Assert.Equal(1 << 20, lazy["uploadBytes"]!.GetValue<int>());
            Assert.Equal(1 << 20, lazy["downloadBytes"]!.GetValue<int>());
        });
    }

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public async Task A_hundred_concurrent_streams_on_one_connection_both_ways(Transport transport, Dialer dialer)
    {
        const int Streams = 100;
        await RunAsync(transport, dialer, async session =>
        {
            foreach (var lazy in new[] { false, true })
            {
                var run = await Js.CommandAsync("streams", new { peerId = session.PeerId, count = Streams, bytes = 16 * 1024, lazy }, session.Token);
                Assert.Equal(session.JsConnectionId, run["connectionId"]!.GetValue<string>());
                Assert.True(Streams == run["succeeded"]!.GetValue<int>(), $"js streams (lazy: {lazy}): {run.ToJsonString()}");
            }

            // All 100 streams are open at once (negotiated, on both sides) before any data flows on them.
            var streams = await Task.WhenAll(Enumerable.Range(0, Streams).Select(_ => session.Connection.NewStreamAsync([EchoService.ProtocolId], session.Token).AsTask()));
            Assert.Equal(Streams, session.Connection.StreamCount);
            await Wait.UntilAsync(
                async () => (await JsConnectionAsync(session.PeerId, session.Token))?["streams"]?.GetValue<int>() >= Streams,
                "js to have all our echo streams open",
                session.Token);
            var payloads = Enumerable.Range(0, Streams).Select(i => RandomBytes(16 * 1024 + i)).ToArray();
            var echoes = await Task.WhenAll(streams.Select((stream, i) => EchoSession.EchoAsync(stream, payloads[i], session.Token).AsTask()));
            for (var i = 0; i < Streams; i++)
            {
                Assert.Equal(payloads[i], echoes[i]);
                await streams[i].DisposeAsync();
            }

            Assert.Single(session.Node.Host.GetConnections());
        });
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
