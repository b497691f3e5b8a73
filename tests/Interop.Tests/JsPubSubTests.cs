using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.PubSub;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>
/// GossipSub in a mixed mesh of our nodes and js-libp2p nodes (@libp2p/gossipsub 17.1.1, StrictSign): messages
/// published from random nodes of both reach every node exactly once, and a message with a forged signature is
/// dropped by both implementations and lowers its sender's score at both.
/// </summary>
public sealed class JsPubSubTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Topic = "toolnet-interop";
    private const int NodesPerSide = 5;

    /// <summary>Messages in the CI run; every one is checked at all ten nodes.</summary>
    private const int MessageCount = 1000;

    private readonly List<CSharpPubSubNode> _ours = [];
    private readonly List<JsPeer> _theirs = [];
    private ILoggerFactory? _loggerFactory;

    public async Task InitializeAsync()
    {
        _loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Warning).AddProvider(new TestOutputLoggerProvider(output)));
        var starting = Enumerable.Range(0, NodesPerSide).Select(_ => JsPeer.StartAsync("--pubsub", "--quiet-events")).ToList();
        for (var i = 0; i < NodesPerSide; i++)
        {
            _ours.Add(await CSharpPubSubNode.StartAsync(_loggerFactory));
        }

        _theirs.AddRange(await Task.WhenAll(starting));
    }

    public async Task DisposeAsync()
    {
        foreach (var js in _theirs)
        {
            await js.DisposeAsync();
        }

        foreach (var node in _ours)
        {
            await node.DisposeAsync();
        }

        _loggerFactory?.Dispose();
    }

    [Fact]
    public async Task Every_node_of_a_mixed_mesh_receives_every_message_exactly_once_and_forged_ones_never()
    {
        using var deadline = Wait.Deadline(240);
        var token = deadline.Token;

        // Everyone subscribes, then the nodes are wired so that no node is connected to all: node k (in the order
        // C#0, js0, C#1, js1, …) dials k-1 and k-2, so messages must be forwarded across both implementations.
        var received = _ours.Select(node => new ConcurrentDictionary<string, int>()).ToList();
        var readers = new List<Task>();
        for (var i = 0; i < _ours.Count; i++)
        {
            var subscription = _ours[i].PubSub.Subscribe(Topic);
            var counts = received[i];
            readers.Add(Task.Run(async () =>
            {
                await foreach (var message in subscription.ReadAllAsync(CancellationToken.None))
                {
                    counts.AddOrUpdate(Encoding.UTF8.GetString(message.Data!), 1, (_, n) => n + 1);
                }
            }, CancellationToken.None));
        }

        foreach (var js in _theirs)
        {
            await js.CommandAsync("pubsubSubscribe", new { topic = Topic }, token);
        }

        var order = Enumerable.Range(0, NodesPerSide).SelectMany(i => new object[] { _ours[i], _theirs[i] }).ToList();
        for (var k = 1; k < order.Count; k++)
        {
            foreach (var target in new[] { k - 1, k - 2 }.Where(t => t >= 0))
            {
                await DialAsync(order[k], order[target], token);
            }
        }

        // Wait until every node has a mesh (the heartbeat grafts within a second or two).
        await UntilAsync(async () =>
        {
            foreach (var js in _theirs)
            {
                var peers = await js.CommandAsync("pubsubPeers", new { topic = Topic }, token);
                if (peers["mesh"]!.AsArray().Count == 0)
                {
                    return false;
                }
            }

            return _ours.All(node => node.PubSub.GetMeshPeers(Topic).Count > 0);
        }, "every node to have mesh peers", token);

        // Publish from random nodes of both sides.
        var random = new Random(9);
        var expected = new List<string>();
        for (var i = 0; i < MessageCount; i++)
        {
            var text = $"message {i}";
            expected.Add(text);
            var publisher = order[random.Next(order.Count)];
            if (publisher is CSharpPubSubNode ours)
            {
                await ours.PubSub.PublishAsync(Topic, Encoding.UTF8.GetBytes(text), token);
            }
            else
            {
                await ((JsPeer)publisher).CommandAsync("pubsubPublish", new { topic = Topic, dataBase64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) }, token);
            }
        }

        await UntilAsync(
            () => Task.FromResult(received.All(r => r.Count == MessageCount) && _theirs.All(js => JsReceived(js).Count == MessageCount)),
            () => "every node to receive every message; C#: " + string.Join(",", received.Select(r => r.Count)) + " js: " + string.Join(",", _theirs.Select(js => JsReceived(js).Count)),
            token);

        // A forged message (signed by C#1, then its data changed) sent by C#1 straight to two of its neighbours.
        var forger = _ours[1];
        var signed = MessageSigning.Sign(new PubSubMessage { Topic = Topic, Data = "genuine"u8.ToArray(), Seqno = [0, 0, 0, 0, 0, 0, 0, 42] }, forger.Key);
        var forged = new PubSubRpc { Messages = [signed with { Data = "forged"u8.ToArray() }] };
        var jsNeighbour = _theirs[0];
        var ourNeighbour = _ours[0];

        // P4 (weight -100, squared) must show against what the forger earned by delivering messages first (P2, up
        // to +100), so the check is a fall of at least half of one invalid message's weight, not a negative score.
        var ourScoreBefore = ourNeighbour.PubSub.GetScore(forger.Host.PeerId);
        var jsScoreBefore = await JsScoreAsync(jsNeighbour, forger, token);
        Assert.True(forger.PubSub.SendRaw(PeerId.Parse(jsNeighbour.PeerId), forged));
        Assert.True(forger.PubSub.SendRaw(ourNeighbour.Host.PeerId, forged));

        var jsScore = jsScoreBefore;
        await UntilAsync(
            async () =>
            {
                jsScore = await JsScoreAsync(jsNeighbour, forger, token);
                return ourNeighbour.PubSub.Counters.InvalidSignatures == 1 && jsScore <= jsScoreBefore - 50;
            },
            () => $"both to reject the forged message and score its sender down (ours: {ourNeighbour.PubSub.Counters.InvalidSignatures} invalid; "
                + $"js: score {jsScoreBefore} -> {jsScore})",
            token);
        var ourScore = ourNeighbour.PubSub.GetScore(forger.Host.PeerId);
        Assert.True(ourScore <= ourScoreBefore - 50, $"our score of the forger went from {ourScoreBefore} to {ourScore}");
        output.WriteLine($"forger's score: ours {ourScoreBefore:F1} -> {ourScore:F1}, js {jsScoreBefore:F1} -> {jsScore:F1}");

        // Let anything in flight land, then check: each message exactly once everywhere, the forged one nowhere.
        await Task.Delay(TimeSpan.FromSeconds(2), token);
        for (var i = 0; i < _ours.Count; i++)
        {
            Assert.Equal(expected.Order(StringComparer.Ordinal), received[i].Keys.Order(StringComparer.Ordinal));
            Assert.All(received[i], pair => Assert.Equal(1, pair.Value));
        }

        foreach (var js in _theirs)
        {
            var texts = JsReceived(js);
            Assert.Equal(expected.Order(StringComparer.Ordinal), texts.Order(StringComparer.Ordinal));
            Assert.Empty(js.Errors);
        }

        Assert.All(_ours, node => Assert.Equal(0, node.PubSub.Counters.MalformedRpcs));
        output.WriteLine("C# duplicates received: " + string.Join(",", _ours.Select(n => n.PubSub.Counters.DuplicateMessages)));
    }

    private static async Task<double> JsScoreAsync(JsPeer js, CSharpPubSubNode peer, CancellationToken cancellationToken) =>
        (await js.CommandAsync("pubsubPeers", new { topic = Topic, peerId = peer.Host.PeerId.ToString() }, cancellationToken))["score"]!.GetValue<double>();

    /// <summary>The texts of the messages js delivered, one entry per delivery.</summary>
    private static List<string> JsReceived(JsPeer js) =>
        [.. js.Events
            .Where(e => e["event"]?.GetValue<string>() == "pubsub:message" && e["topic"]?.GetValue<string>() == Topic)
            .Select(e => Encoding.UTF8.GetString(Convert.FromBase64String(e["dataBase64"]!.GetValue<string>())))];

    private static async Task DialAsync(object from, object to, CancellationToken cancellationToken)
    {
        var address = to is CSharpPubSubNode ours ? ours.Address.ToString() : ((JsPeer)to).TcpAddress;
        if (from is CSharpPubSubNode dialer)
        {
            await dialer.Host.ConnectAsync(Multiaddr.Parse(address), cancellationToken);
        }
        else
        {
            await ((JsPeer)from).CommandAsync("dial", new { addr = address }, cancellationToken);
        }
    }

    private static Task UntilAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken) =>
        UntilAsync(condition, () => what, cancellationToken);

    /// <summary>Polls until <paramref name="condition"/> holds or the test's deadline passes.</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("timed out waiting for " + what());
            }
        }
    }

    /// <summary>A host of ours (TCP, Noise, Yamux on 127.0.0.1) with a pubsub service.</summary>
    private sealed class CSharpPubSubNode : IAsyncDisposable
    {
        private CSharpPubSubNode(Libp2pHost host, PubSubService pubSub, PrivateKey key)
        {
            Host = host;
            PubSub = pubSub;
            Key = key;
        }

        public Libp2pHost Host { get; }

        public PubSubService PubSub { get; }

        public PrivateKey Key { get; }

        public Multiaddr Address => Host.ListenAddresses[0].WithPeerId(Host.PeerId);

        public static async Task<CSharpPubSubNode> StartAsync(ILoggerFactory loggerFactory)
        {
            var key = PrivateKey.Generate(KeyType.Ed25519);
            var host = new Libp2pHost(
                new HostOptions
                {
                    Identity = key,
                    Transports = [new TcpTransport()],
                    Security = [new NoiseSecurity(key, [YamuxMuxer.Id], loggerFactory.CreateLogger<NoiseSecurity>())],
                    Muxers = [new YamuxMuxer()],
                    ListenAddresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
                },
                loggerFactory);
            await host.StartAsync();
            return new CSharpPubSubNode(host, new PubSubService(host, key, PubSubOptions.Default, loggerFactory.CreateLogger<PubSubService>()), key);
        }

        public async ValueTask DisposeAsync()
        {
            await PubSub.DisposeAsync();
            await Host.DisposeAsync();
        }
    }
}
