using System.Buffers;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Ping;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Ping;

public class PingSessionTests
{
    [Fact]
    public async Task Repeated_pings_on_one_stream_are_echoed_and_timed()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        var echoing = PingSession.EchoAsync(listener).AsTask();
        var roundTrips = await PingSession.PingAsync(dialer, 5);
        await dialer.CloseWriteAsync();
        Assert.Equal(5, roundTrips.Count);
        Assert.All(roundTrips, rtt => Assert.True(rtt >= TimeSpan.Zero));
        Assert.Equal(5, await echoing);
    }

    [Fact]
    public async Task A_wrong_echo_fails_the_ping()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        var answering = AnswerAsync(listener, payload => payload[7] ^= 1);
        await Assert.ThrowsAsync<PingException>(async () => await PingSession.PingAsync(dialer, 1));
        await answering;
    }

    [Fact]
    public async Task An_echo_with_extra_bytes_fails_the_ping()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        var answering = AnswerAsync(listener, _ => { }, extra: 1);
        await Assert.ThrowsAsync<PingException>(async () => await PingSession.PingAsync(dialer, 1));
        await answering;
    }

    [Fact]
    public async Task A_remote_that_closes_before_echoing_fails_the_ping()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        await listener.Output.WriteAsync(new byte[10]);
        await listener.CloseWriteAsync();
        var exception = await Assert.ThrowsAsync<PingException>(async () => await PingSession.PingAsync(dialer, 1));
        Assert.Contains("10 of 32", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reset_during_a_ping_surfaces_as_a_stream_reset()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        var pinging = PingSession.PingAsync(dialer, 1).AsTask();
        listener.Reset();
        await Assert.ThrowsAsync<StreamResetException>(() => pinging);
    }

    [Fact]
    public async Task Payloads_that_arrive_together_are_echoed_together()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        var payloads = Enumerable.Range(0, 96).Select(i => (byte)i).ToArray();
        await dialer.Output.WriteAsync(payloads);
        await dialer.CloseWriteAsync();
        Assert.Equal(3, await PingSession.EchoAsync(listener));
        await listener.CloseWriteAsync();
        Assert.Equal(payloads, await dialer.ReadToEndAsync());
    }

    [Fact]
    public async Task A_stream_ending_inside_a_payload_is_malformed_after_the_whole_ones_are_echoed()
    {
        var (dialer, listener) = InMemoryStream.CreatePair(PingService.ProtocolId);
        await dialer.Output.WriteAsync(new byte[40]);
        await dialer.CloseWriteAsync();
        await Assert.ThrowsAnyAsync<WireFormatException>(async () => await PingSession.EchoAsync(listener));
        await listener.CloseWriteAsync();
        Assert.Equal(32, (await dialer.ReadToEndAsync()).Length);
    }

    private static async Task AnswerAsync(InMemoryStream listener, Action<byte[]> tamper, int extra = 0)
    {
        var read = await listener.Input.ReadAtLeastAsync(PingSession.PayloadLength);
        var payload = read.Buffer.Slice(0, PingSession.PayloadLength).ToArray();
        listener.Input.AdvanceTo(read.Buffer.GetPosition(PingSession.PayloadLength));
        tamper(payload);
        await listener.Output.WriteAsync(payload.Concat(new byte[extra]).ToArray());
    }
}

public sealed class PingServiceTests : TwoHostsTest
{
    private readonly PingService _pingA;

    public PingServiceTests()
    {
        _pingA = Own(new PingService(A, new PingOptions { Timeout = TimeSpan.FromSeconds(20) }, Log));
        Own(new PingService(B, logger: Log));
    }

    [Fact]
    public async Task Pings_are_timed_and_recorded_in_the_peer_store()
    {
        var roundTrips = await _pingA.PingAsync(AToB, 3);
        Assert.Equal(3, roundTrips.Count);
        Assert.Equal(roundTrips, A.FakePeerStore.LatencySamples(B.PeerId));
        Assert.NotNull(A.PeerStore.GetLatency(B.PeerId));
        Assert.Single(await _pingA.PingAsync(B.PeerId));
    }

    [Fact]
    public void The_handler_allows_two_streams_per_connection_and_limited_connections()
    {
        var options = B.HandlerOptions(PingService.ProtocolId)!;
        Assert.Equal(2, options.MaxInboundStreamsPerConnection);
        Assert.True(options.RunOnLimitedConnection);
    }

    [Fact]
    public async Task Concurrent_pings_to_one_peer_share_one_stream_at_a_time()
    {
        var pings = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _pingA.PingAsync(AToB, 3)));
        Assert.All(pings, p => Assert.Equal(3, p.Count));
        Assert.Equal(4, AToB.OpenedProtocols.Count);
        Assert.Equal(1, AToB.MostOpenOutboundStreams);
        Assert.Equal(12, A.FakePeerStore.LatencySamples(B.PeerId).Count);
    }

    [Fact]
    public async Task A_silent_peer_times_out()
    {
        using var impatient = new PingService(A, new PingOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        var release = new TaskCompletionSource();
        B.SetStreamHandler(PingService.ProtocolId, (_, _) => release.Task);
        await Assert.ThrowsAsync<TimeoutException>(() => impatient.PingAsync(AToB));
        release.SetResult();
    }

    [Fact]
    public async Task A_malformed_inbound_ping_stream_is_reset_andLogged()
    {
        await using var stream = await AToB.NewStreamAsync([PingService.ProtocolId]);
        await stream.Output.WriteAsync(new byte[33]);
        await stream.CloseWriteAsync();
        await B.WhenHandlersDoneAsync();
        Assert.True(Log.Contains(LogLevel.Warning, "broke the protocol"));
        await Assert.ThrowsAsync<StreamResetException>(async () => await ((InMemoryStream)stream).ReadToEndAsync());
    }
}
