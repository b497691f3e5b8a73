using System.Collections.Concurrent;
using System.Threading.Channels;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Tests.Fakes;
using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.Identify;

/// <summary>
/// Identify push driven by the host (spec "identify/push"): two real hosts over TCP on 127.0.0.1, B connected to A;
/// when A's protocols or listen addresses change, A's identify service pushes and B's peer store follows.
/// </summary>
public sealed class IdentifyPushTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly PrivateKey _keyA = PrivateKey.Generate(KeyType.Ed25519);
    private readonly PrivateKey _keyB = PrivateKey.Generate(KeyType.Ed25519);
    private readonly ManualTimeProvider _clock = new();
    private readonly List<IAsyncDisposable> _owned = [];
    private Libp2pHost _a = null!;
    private Libp2pHost _b = null!;

    public async Task InitializeAsync()
    {
        _a = Own(await TestHosts.StartAsync(identity: _keyA));
        _b = Own(await TestHosts.StartAsync(identity: _keyB));
    }

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task A_handler_added_or_removed_on_A_reaches_Bs_peer_store()
    {
        var (_, serviceB) = await ConnectWithIdentifyAsync(new IdentifyOptions());

        var added = NextIdentification(serviceB, result => result.Protocols.Contains("/added/1.0.0"));
        _a.SetStreamHandler("/added/1.0.0", (_, _) => Task.CompletedTask);
        await added;
        Assert.Contains("/added/1.0.0", _b.PeerStore.GetProtocols(_a.PeerId));
        Assert.Equal(_a.Protocols.Order(StringComparer.Ordinal), _b.PeerStore.GetProtocols(_a.PeerId).Order(StringComparer.Ordinal));

        var removed = NextIdentification(serviceB, result => !result.Protocols.Contains("/added/1.0.0"));
        _a.RemoveStreamHandler("/added/1.0.0");
        await removed;
        Assert.DoesNotContain("/added/1.0.0", _b.PeerStore.GetProtocols(_a.PeerId));
    }

    [Fact]
    public async Task A_listener_opened_or_closed_on_A_reaches_B_with_a_newer_signed_record()
    {
        var (_, serviceB) = await ConnectWithIdentifyAsync(new IdentifyOptions());
        var seqBefore = StoredRecordOfA().Seq;

        var opened = NextIdentification(serviceB, result => result.SignedPeerRecord?.Addresses.Count == 2);
        var newAddress = await _a.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"));
        var pushed = await opened;

        Assert.Contains(newAddress, pushed.SignedPeerRecord!.Addresses);
        Assert.Equal(_a.ListenAddresses, pushed.SignedPeerRecord.Addresses);
        Assert.True(pushed.SignedPeerRecord.Seq > seqBefore);
        var stored = StoredRecordOfA();
        Assert.Equal(pushed.SignedPeerRecord.Seq, stored.Seq);
        Assert.Contains(newAddress, _b.PeerStore.GetAddresses(_a.PeerId));

        var closed = NextIdentification(serviceB, result => result.SignedPeerRecord?.Addresses.Count == 1);
        Assert.True(await _a.StopListeningAsync(newAddress));
        var afterClose = await closed;

        Assert.DoesNotContain(newAddress, afterClose.SignedPeerRecord!.Addresses);
        Assert.True(afterClose.SignedPeerRecord.Seq > stored.Seq);
        Assert.DoesNotContain(newAddress, _b.PeerStore.GetAddresses(_a.PeerId));
        Assert.Equal(afterClose.SignedPeerRecord.Seq, StoredRecordOfA().Seq);
    }

    [Fact]
    public async Task A_burst_of_changes_is_pushed_once_after_the_delay()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var (serviceA, _) = await ConnectWithIdentifyAsync(new IdentifyOptions { TimeProvider = _clock, PushDelay = delay });
        var received = RecordPushesOnB(release: Task.CompletedTask);
        string[] burst = ["/burst/1", "/burst/2", "/burst/3", "/burst/4", "/burst/5"];

        foreach (var protocol in burst)
        {
            _a.SetStreamHandler(protocol, (_, _) => Task.CompletedTask);
        }

        _a.RemoveStreamHandler("/burst/5");
        _clock.Advance(delay - TimeSpan.FromTicks(1));
        _a.SetStreamHandler("/burst/5", (_, _) => Task.CompletedTask);
        _clock.Advance(TimeSpan.FromTicks(1));
        await received.Arrived(1);

        // Disposing waits for every push under way, so nothing can still be coming.
        await serviceA.DisposeAsync();
        var push = Assert.Single(received.Messages);
        Assert.Superset(burst.ToHashSet(), push.Protocols.ToHashSet());
    }

    [Fact]
    public async Task Changes_while_a_push_is_in_flight_make_one_more_push_after_it()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var (serviceA, _) = await ConnectWithIdentifyAsync(new IdentifyOptions { TimeProvider = _clock, PushDelay = delay });
        var release = new TaskCompletionSource();
        var received = RecordPushesOnB(release.Task);

        _a.SetStreamHandler("/first/1.0.0", (_, _) => Task.CompletedTask);
        _clock.Advance(delay);
        await received.Arrived(1);

        // The first push waits for B; the next two rounds find it in flight and leave one request behind it.
        _a.SetStreamHandler("/second/1.0.0", (_, _) => Task.CompletedTask);
        _clock.Advance(delay);
        _a.SetStreamHandler("/third/1.0.0", (_, _) => Task.CompletedTask);
        _clock.Advance(delay);
        release.SetResult();
        await received.Arrived(2);

        await serviceA.DisposeAsync();
        Assert.Equal(2, received.Messages.Count);
        Assert.DoesNotContain("/second/1.0.0", received.Messages.First().Protocols);
        Assert.Superset(new HashSet<string> { "/first/1.0.0", "/second/1.0.0", "/third/1.0.0" }, received.Messages.Last().Protocols.ToHashSet());
    }

    [Fact]
    public async Task Nothing_is_pushed_when_the_changes_cancel_out()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var (serviceA, _) = await ConnectWithIdentifyAsync(new IdentifyOptions { TimeProvider = _clock, PushDelay = delay });
        var received = RecordPushesOnB(Task.CompletedTask);

        _a.SetStreamHandler("/brief/1.0.0", (_, _) => Task.CompletedTask);
        _a.RemoveStreamHandler("/brief/1.0.0");
        _clock.Advance(delay);
        Assert.False(await serviceA.PushIfChangedAsync());

        // A real change afterwards is pushed, and it is the only push.
        _a.SetStreamHandler("/kept/1.0.0", (_, _) => Task.CompletedTask);
        _clock.Advance(delay);
        await received.Arrived(1);
        await serviceA.DisposeAsync();
        Assert.Contains("/kept/1.0.0", Assert.Single(received.Messages).Protocols);
    }

    [Fact]
    public async Task A_failing_push_is_logged_not_thrown()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        var log = new CollectingLogger();
        var (serviceA, _) = await ConnectWithIdentifyAsync(new IdentifyOptions { TimeProvider = _clock, PushDelay = delay }, log);
        var attempted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _b.SetStreamHandler(IdentifyService.PushProtocolId, (stream, _) =>
        {
            stream.Reset();
            attempted.TrySetResult();
            return Task.CompletedTask;
        });

        _a.SetStreamHandler("/unheard/1.0.0", (_, _) => Task.CompletedTask);
        _clock.Advance(delay);
        await attempted.Task.WaitAsync(Patience);
        await serviceA.DisposeAsync();

        Assert.True(log.Contains(Microsoft.Extensions.Logging.LogLevel.Debug, "Identify push with"));
        Assert.DoesNotContain("/unheard/1.0.0", _b.PeerStore.GetProtocols(_a.PeerId));
    }

    /// <summary>Identify services on both hosts; B dials A, and both have identified each other before this returns
    /// (so that an identify answer cannot land after, and undo, a push the test makes).</summary>
    private async Task<(IdentifyService A, IdentifyService B)> ConnectWithIdentifyAsync(IdentifyOptions optionsA, CollectingLogger? logA = null)
    {
        var serviceA = Own(new IdentifyService(_a, _keyA, optionsA, logA));
        var serviceB = Own(new IdentifyService(_b, _keyB, new IdentifyOptions { PushOnChange = false }));
        var bIdentifiedA = NextIdentification(serviceB, result => result.Peer == _a.PeerId);
        var aIdentifiedB = NextIdentification(serviceA, result => result.Peer == _b.PeerId);
        await _b.ConnectAsync(TestHosts.DialAddress(_a));
        await Task.WhenAll(bIdentifiedA, aIdentifiedB);
        return (serviceA, serviceB);
    }

    /// <summary>Replaces B's push handler: it records each pushed message, waits for <paramref name="release"/>, then
    /// closes (A's push ends only then).</summary>
    private PushRecorder RecordPushesOnB(Task release)
    {
        var recorder = new PushRecorder();
        _b.SetStreamHandler(IdentifyService.PushProtocolId, async (stream, ct) =>
        {
            recorder.Add(await IdentifySession.ReceiveAsync(stream.Input, ct));
            await release.WaitAsync(ct);
            await stream.CloseWriteAsync(ct);
        });
        return recorder;
    }

    private PeerRecord StoredRecordOfA() =>
        PeerRecord.ConsumeEnvelope(_b.PeerStore.GetPeerRecordEnvelope(_a.PeerId)!.Value.ToArray()).Record;

    private static Task<IdentifyResult> NextIdentification(IdentifyService service, Func<IdentifyResult, bool> matches)
    {
        var next = new TaskCompletionSource<IdentifyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.PeerIdentified += (_, result) =>
        {
            if (matches(result))
            {
                next.TrySetResult(result);
            }
        };
        return next.Task.WaitAsync(Patience);
    }

    private T Own<T>(T disposable)
        where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>The identify messages pushed to B, in arrival order.</summary>
    private sealed class PushRecorder
    {
        private readonly ConcurrentQueue<IdentifyMessage> _messages = new();
        private readonly Channel<IdentifyMessage> _arrivals = Channel.CreateUnbounded<IdentifyMessage>();

        public IReadOnlyCollection<IdentifyMessage> Messages => _messages;

        public void Add(IdentifyMessage message)
        {
            _messages.Enqueue(message);
            _arrivals.Writer.TryWrite(message);
        }

        /// <summary>Waits until <paramref name="count"/> messages have arrived in all.</summary>
        public async Task Arrived(int count)
        {
            while (_messages.Count < count)
            {
                await _arrivals.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            }
        }
    }
}
