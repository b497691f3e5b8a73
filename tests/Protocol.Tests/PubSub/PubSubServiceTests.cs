using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.PubSub;
using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.PubSub;

/// <summary>Pubsub between real hosts (TCP, Noise, Yamux on 127.0.0.1).</summary>
public sealed class PubSubServiceTests : IAsyncLifetime
{
    private const string Topic = "toolnet-test";
    private static readonly PubSubOptions FastHeartbeat = new() { HeartbeatInterval = TimeSpan.FromMilliseconds(100) };
    private readonly List<(Libp2pHost Host, PubSubService PubSub, PrivateKey Key)> _nodes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (host, pubsub, _) in _nodes)
        {
            await pubsub.DisposeAsync();
            await host.DisposeAsync();
        }
    }

    private async Task<(Libp2pHost Host, PubSubService PubSub)> StartNodeAsync(PubSubOptions? options = null)
    {
        var key = PrivateKey.Generate(KeyType.Ed25519);
        var host = await TestHosts.StartAsync(identity: key);
        var pubsub = new PubSubService(host, key, options ?? FastHeartbeat, NullLogger.Instance);
        _nodes.Add((host, pubsub, key));
        return (host, pubsub);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }
        }
    }

    [Fact]
    public async Task Messages_reach_every_subscriber_of_a_line_exactly_once()
    {
        // A line a - b - c - d: messages must be forwarded through the mesh.
        var nodes = new List<(Libp2pHost Host, PubSubService PubSub)>();
        for (var i = 0; i < 4; i++)
        {
            nodes.Add(await StartNodeAsync());
        }

        var subscriptions = nodes.Select(n => n.PubSub.Subscribe(Topic)).ToList();
        for (var i = 0; i + 1 < nodes.Count; i++)
        {
            await nodes[i].Host.ConnectAsync(TestHosts.DialAddress(nodes[i + 1].Host));
        }

        await WaitUntilAsync(
            () => nodes.Select((n, i) => n.PubSub.GetMeshPeers(Topic).Count == (i == 0 || i == nodes.Count - 1 ? 1 : 2)).All(x => x),
            "the line's meshes");

        for (var i = 0; i < 10; i++)
        {
            await nodes[i % 2 == 0 ? 0 : 3].PubSub.PublishAsync(Topic, Encoding.UTF8.GetBytes($"message {i}"));
        }

        foreach (var subscription in subscriptions)
        {
            var received = new List<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (received.Count < 10)
            {
                received.Add(Encoding.UTF8.GetString((await subscription.ReadAsync(timeout.Token)).Data!));
            }

            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"message {i}").Order(), received.Order());
        }

        // Nothing more arrives: every message was delivered once.
        await Task.Delay(300);
        Assert.All(subscriptions, s => Assert.False(s.TryRead(out _)));
    }

    [Fact]
    public async Task A_validator_decides_what_is_delivered_and_forwarded_and_rejections_lower_the_score()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        var c = await StartNodeAsync();
        using var atA = a.PubSub.Subscribe(Topic);
        using var atB = b.PubSub.Subscribe(Topic, (message, _) => ValueTask.FromResult(
            message.Data![0] == (byte)'!' ? ValidationResult.Reject : message.Data[0] == (byte)'?' ? ValidationResult.Ignore : ValidationResult.Accept));
        using var atC = c.PubSub.Subscribe(Topic);
        await a.Host.ConnectAsync(TestHosts.DialAddress(b.Host));
        await b.Host.ConnectAsync(TestHosts.DialAddress(c.Host));
        await WaitUntilAsync(() => b.PubSub.GetMeshPeers(Topic).Count == 2 && c.PubSub.GetMeshPeers(Topic).Count == 1, "the meshes");

        await a.PubSub.PublishAsync(Topic, "!bad"u8.ToArray());
        await a.PubSub.PublishAsync(Topic, "?meh"u8.ToArray());
        await a.PubSub.PublishAsync(Topic, "good"u8.ToArray());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal("good", Encoding.UTF8.GetString((await atB.ReadAsync(timeout.Token)).Data!));
        Assert.Equal("good", Encoding.UTF8.GetString((await atC.ReadAsync(timeout.Token)).Data!));
        Assert.Equal(1, b.PubSub.Counters.RejectedMessages);
        Assert.Equal(1, b.PubSub.Counters.IgnoredMessages);
        Assert.True(b.PubSub.GetScore(a.Host.PeerId) < 0, $"a's score at b is {b.PubSub.GetScore(a.Host.PeerId)}");
        Assert.False(atC.TryRead(out _));
    }

    [Fact]
    public async Task A_message_with_a_bad_signature_is_dropped_and_its_sender_scored_down()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        using var atB = b.PubSub.Subscribe(Topic);
        using var atA = a.PubSub.Subscribe(Topic);
        await a.Host.ConnectAsync(TestHosts.DialAddress(b.Host));
        await WaitUntilAsync(() => b.PubSub.GetTopicPeers(Topic).Count == 1 && a.PubSub.GetPeers().Count == 1, "b to know a's topic");

        var key = _nodes[0].Key;
        var signed = MessageSigning.Sign(new PubSubMessage { Topic = Topic, Data = "real"u8.ToArray(), Seqno = [0, 0, 0, 0, 0, 0, 0, 1] }, key);
        var forged = signed with { Data = "forged"u8.ToArray() };
        Assert.True(a.PubSub.SendRaw(b.Host.PeerId, new PubSubRpc { Messages = [forged] }));
        await WaitUntilAsync(() => b.PubSub.Counters.InvalidSignatures == 1, "b to check the signature");
        Assert.True(b.PubSub.GetScore(a.Host.PeerId) < 0);
        Assert.False(atB.TryRead(out _));
        Assert.Equal(0, b.PubSub.Counters.DeliveredMessages);
    }

    [Fact]
    public async Task A_malformed_rpc_resets_the_stream_and_is_counted()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        await a.Host.ConnectAsync(TestHosts.DialAddress(b.Host));
        var stream = await a.Host.NewStreamAsync(b.Host.PeerId, [PubSubService.MeshSubV12]);
        await using (stream)
        {
            // A length prefix over the 1 MiB bound.
            await stream.Output.WriteAsync(new byte[] { 0x81, 0x80, 0x40 });
            await WaitUntilAsync(() => b.PubSub.Counters.MalformedRpcs == 1, "b to refuse the RPC");
        }
    }

    [Fact]
    public async Task Grafts_during_a_backoff_are_refused_and_penalized_until_the_peer_is_graylisted()
    {
        var a = await StartNodeAsync();
        var b = await StartNodeAsync();
        var atA = a.PubSub.Subscribe(Topic);
        using var atB = b.PubSub.Subscribe(Topic);
        await a.Host.ConnectAsync(TestHosts.DialAddress(b.Host));
        await WaitUntilAsync(() => a.PubSub.GetMeshPeers(Topic).Count == 1, "the mesh");

        // a leaves (PRUNE with the unsubscribe backoff) and joins again: b is in a's backoff and stays out of its mesh.
        atA.Dispose();
        using var again = a.PubSub.Subscribe(Topic);
        Assert.Empty(a.PubSub.GetMeshPeers(Topic));

        var graft = new PubSubRpc { Control = new ControlMessage { Graft = [new ControlGraft(Topic)] } };
        for (var i = 0; i < 10; i++)
        {
            Assert.True(b.PubSub.SendRaw(a.Host.PeerId, graft));
        }

        // Each GRAFT this soon after the PRUNE costs 2 (P7, weight -10 beyond 6, squared): the ninth takes b below
        // the graylist threshold (-1000), after which a ignores b's RPCs altogether.
        await WaitUntilAsync(() => a.PubSub.Counters.RefusedGrafts + a.PubSub.Counters.GraylistedRpcs == 10, "a to handle the GRAFTs");
        Assert.Equal(9, a.PubSub.Counters.RefusedGrafts);
        Assert.Equal(1, a.PubSub.Counters.GraylistedRpcs);
        Assert.Empty(a.PubSub.GetMeshPeers(Topic));
        var score = a.PubSub.GetScore(b.Host.PeerId);
        Assert.True(score < PubSubOptions.Default.Score.Thresholds.Graylist, $"b's score at a is {score}");
    }

    [Fact]
    public async Task An_ihave_of_ten_thousand_ids_gets_at_most_five_thousand_asked_and_an_unkept_promise_is_counted()
    {
        var a = await StartNodeAsync(FastHeartbeat with { IWantFollowupTime = TimeSpan.FromMilliseconds(500) });
        var b = await StartNodeAsync();
        using var atA = a.PubSub.Subscribe(Topic);
        using var atB = b.PubSub.Subscribe(Topic);
        await a.Host.ConnectAsync(TestHosts.DialAddress(b.Host));
        await WaitUntilAsync(() => a.PubSub.GetMeshPeers(Topic).Count == 1, "the mesh");

        // Ids b never had: a asks for what the per-heartbeat budget allows, b has none of them to send.
        var ids = Enumerable.Range(0, 10_000).Select(i => new MessageId(BitConverter.GetBytes(i))).ToList();
        Assert.True(b.PubSub.SendRaw(a.Host.PeerId, new PubSubRpc { Control = new ControlMessage { IHave = [new ControlIHave(Topic, ids)] } }));

        await WaitUntilAsync(() => b.PubSub.Counters.IgnoredIWants > 0, "a's IWANT to reach b");
        Assert.Equal(PubSubOptions.Default.MaxIHaveLength, b.PubSub.Counters.IgnoredIWants);
        await WaitUntilAsync(() => a.PubSub.Counters.BrokenPromises == 1, "a to count b's broken promise");
    }
}
