using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Memory;
using ToolNet.Protocol.Plaintext;
using ToolNet.Protocol.PubSub;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Benchmarks;

/// <summary>How a simulated node misbehaves.</summary>
internal enum Misbehaviour
{
    /// <summary>None.</summary>
    None,

    /// <summary>Takes messages but neither delivers nor forwards them (its validator ignores everything).</summary>
    Drop,

    /// <summary>Forwards normally, and sends a forged message to each of its peers with every message it publishes.</summary>
    SpamInvalid,
}

/// <summary>The settings of one simulation run.</summary>
internal sealed record PubSubSimulationSettings
{
    public int Nodes { get; init; } = 100;

    public int Messages { get; init; } = 100;

    /// <summary>Random connections each node dials at start.</summary>
    public int ConnectionsPerNode { get; init; } = 8;

    /// <summary>One-way delay of every link.</summary>
    public TimeSpan LinkLatency { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Share of nodes that vanish (links stop delivering, nothing closes) once half the messages are out.</summary>
    public double Churn { get; init; }

    /// <summary>Share of nodes that misbehave.</summary>
    public double Misbehaving { get; init; }

    public Misbehaviour Misbehaviour { get; init; } = Misbehaviour.Drop;

    /// <summary>Bytes of each message (at least 16; IDONTWANT starts above 1 KiB).</summary>
    public int MessageSize { get; init; } = 64;

    /// <summary>Pause between publications.</summary>
    public TimeSpan PublishInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long to wait for the last deliveries.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);

    public int Seed { get; init; } = 1;
}

/// <summary>What a run measured, over the honest nodes that stayed up.</summary>
internal sealed record PubSubSimulationResult(
    int Nodes,
    int Messages,
    int HonestLiveNodes,
    double DeliveryRatio,
    double LatencyP50Ms,
    double LatencyP99Ms,
    double DuplicatesPerMessagePerNode,
    double MeanMeshSize,
    double MeanSpammerScore,
    int NodesMissingMessages,
    int MessagesMissingSomewhere)
{
    /// <summary>The first messages some node missed, for diagnosis.</summary>
    public IReadOnlyList<int> FirstMissing { get; init; } = [];

    /// <summary>Messages not counted: their publisher vanished (churn) after publishing them.</summary>
    public int LostWithPublisher { get; init; }

    public override string ToString() =>
        $"nodes {Nodes}, messages {Messages}, honest live nodes {HonestLiveNodes}: delivery {DeliveryRatio:P3}, latency p50 {LatencyP50Ms:F0} ms "
        + $"(~{LatencyP50Ms / 20:F1} links of 20 ms), p99 {LatencyP99Ms:F0} ms, duplicates per message per node {DuplicatesPerMessagePerNode:F2}, "
        + $"mean mesh {MeanMeshSize:F1}, messages whose publisher vanished {LostWithPublisher}" + (double.IsNaN(MeanSpammerScore) ? "" : $", mean spammer score at its peers {MeanSpammerScore:F0}")
        + (DeliveryRatio < 1 ? $"; {NodesMissingMessages} nodes missed some of {MessagesMissingSomewhere} messages (first: {string.Join(", ", FirstMissing)})" : "");
}

/// <summary>
/// GossipSub over the in-memory network: N real hosts (plaintext security, Yamux) with one topic, messages published
/// from random honest nodes, with churn and misbehaving nodes. Latency is measured on the real clock (the links
/// delay by <see cref="PubSubSimulationSettings.LinkLatency"/>), so a loaded machine adds its own queueing to it.
/// </summary>
internal sealed class PubSubSimulation : IAsyncDisposable
{
    private const string Topic = "simulation";
    private readonly PubSubSimulationSettings _settings;
    private readonly MemoryNetwork _network;
    private readonly List<SimulatedNode> _nodes = [];
    private readonly Random _random;

    private PubSubSimulation(PubSubSimulationSettings settings)
    {
        _settings = settings;
        _random = new Random(settings.Seed);
        _network = new MemoryNetwork(new MemoryNetworkOptions { Latency = settings.LinkLatency });
    }

    public static async Task<PubSubSimulationResult> RunAsync(PubSubSimulationSettings settings, CancellationToken cancellationToken)
    {
        await using var simulation = new PubSubSimulation(settings);
        return await simulation.RunAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(async node =>
        {
            await node.PubSub.DisposeAsync();
            await node.Host.DisposeAsync();
        }));
    }

    private async Task<PubSubSimulationResult> RunAsync(CancellationToken cancellationToken)
    {
        var misbehaving = (int)(_settings.Nodes * _settings.Misbehaving);
        var options = new PubSubOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) };
        for (var i = 0; i < _settings.Nodes; i++)
        {
            _nodes.Add(await SimulatedNode.StartAsync(_network, options, i < misbehaving ? _settings.Misbehaviour : Misbehaviour.None));
        }

        foreach (var node in _nodes)
        {
            node.Subscribe(Topic);
        }

        var dials = new List<Task>();
        foreach (var node in _nodes)
        {
            for (var k = 0; k < _settings.ConnectionsPerNode / 2; k++)
            {
                var other = _nodes[_random.Next(_nodes.Count)];
                if (other != node)
                {
                    dials.Add(DialAsync(node, other, cancellationToken));
                }
            }
        }

        await Task.WhenAll(dials);

        // Meshes form over a few heartbeats.
        var formed = Stopwatch.StartNew();
        while (_nodes.Any(n => n.PubSub.GetMeshPeers(Topic).Count < Math.Min(options.DLow, n.Host.GetConnections().Count)) && formed.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100, cancellationToken);
        }

        var honest = _nodes.Where(n => n.Misbehaviour == Misbehaviour.None).ToList();
        var vanished = new HashSet<SimulatedNode>();
        var publishers = new SimulatedNode[_settings.Messages];
        for (var m = 0; m < _settings.Messages; m++)
        {
            if (m == _settings.Messages / 2 && _settings.Churn > 0)
            {
                foreach (var node in honest.OrderBy(_ => _random.Next()).Take((int)(_settings.Nodes * _settings.Churn)))
                {
                    vanished.Add(node);
                    _network.Vanish(node.Transport);
                }
            }

            var live = honest.Where(n => !vanished.Contains(n)).ToList();
            var publisher = live[_random.Next(live.Count)];
            publishers[m] = publisher;
            var payload = new byte[Math.Max(16, _settings.MessageSize)];
            BitConverter.TryWriteBytes(payload, m);
            BitConverter.TryWriteBytes(payload.AsSpan(8), Stopwatch.GetTimestamp());
            await publisher.PubSub.PublishAsync(Topic, payload, cancellationToken);
            foreach (var spammer in _nodes.Where(n => n.Misbehaviour == Misbehaviour.SpamInvalid && !vanished.Contains(n)))
            {
                spammer.SpamForged(Topic, m);
            }

            await Task.Delay(_settings.PublishInterval, cancellationToken);
        }

        // Every honest node that stayed up must get every message whose publisher stayed up; a message still on the
        // links of a publisher that vanishes goes with it, as it would on a real network.
        var measured = honest.Where(n => !vanished.Contains(n)).ToList();
        var counted = Enumerable.Range(0, _settings.Messages).Where(m => !vanished.Contains(publishers[m])).ToHashSet();
        var expected = (long)measured.Count * counted.Count;
        long Delivered() => measured.Sum(n => n.Received.Keys.Count(counted.Contains));
        var settle = Stopwatch.StartNew();
        while (Delivered() < expected && settle.Elapsed < _settings.Settle)
        {
            await Task.Delay(100, cancellationToken);
        }

        var delivered = Delivered();
        var latencies = measured.SelectMany(n => n.Received.Values).Select(ticks => ticks * 1000.0 / Stopwatch.Frequency).Order().ToList();
        var duplicates = measured.Sum(n => n.PubSub.Counters.DuplicateMessages);
        var spammers = _nodes.Where(n => n.Misbehaviour == Misbehaviour.SpamInvalid).Select(n => n.Host.PeerId).ToHashSet();
        var spammerScores = measured.SelectMany(n => n.PubSub.GetPeers().Where(spammers.Contains).Select(n.PubSub.GetScore)).ToList();
        return new PubSubSimulationResult(
            _settings.Nodes,
            _settings.Messages,
            measured.Count,
            (double)delivered / expected,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.99),
            (double)duplicates / expected,
            measured.Average(n => n.PubSub.GetMeshPeers(Topic).Count),
            spammerScores.Count == 0 ? double.NaN : spammerScores.Average(),
            measured.Count(n => counted.Any(m => !n.Received.ContainsKey(m))),
            counted.Count(m => measured.Any(n => !n.Received.ContainsKey(m))))
        {
            FirstMissing = [.. counted.Where(m => measured.Any(n => !n.Received.ContainsKey(m))).Order().Take(5)],
            LostWithPublisher = _settings.Messages - counted.Count,
        };
    }

    /// <summary>Dials; a dial that fails (a loaded machine can time out a few of thousands) leaves that link out.</summary>
    private static async Task DialAsync(SimulatedNode from, SimulatedNode to, CancellationToken cancellationToken)
    {
        try
        {
            await from.Host.ConnectAsync(to.Address, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            Console.Error.WriteLine($"simulation: a dial failed: {ex.Message}");
        }
    }

    private static double Percentile(List<double> sorted, double quantile) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(quantile * sorted.Count))];

    private sealed class SimulatedNode
    {
        private readonly PrivateKey _key;
        private PubSubSubscription? _subscription;

        private SimulatedNode(Libp2pHost host, MemoryTransport transport, PubSubService pubSub, PrivateKey key, Misbehaviour misbehaviour)
        {
            Host = host;
            Transport = transport;
            PubSub = pubSub;
            _key = key;
            Misbehaviour = misbehaviour;
        }

        public Libp2pHost Host { get; }

        public MemoryTransport Transport { get; }

        public PubSubService PubSub { get; }

        public Misbehaviour Misbehaviour { get; }

        public Multiaddr Address => Host.ListenAddresses[0].WithPeerId(Host.PeerId);

        /// <summary>Message number to latency in stopwatch ticks (publish to delivery).</summary>
        public ConcurrentDictionary<int, long> Received { get; } = new();

        public static async Task<SimulatedNode> StartAsync(MemoryNetwork network, PubSubOptions options, Misbehaviour misbehaviour)
        {
            var key = PrivateKey.Generate(KeyType.Ed25519);
            var transport = network.CreateTransport();
            var host = new Libp2pHost(new HostOptions
            {
                Identity = key,
                Transports = [transport],
                Security = [new PlaintextSecurity(key)],
                Muxers = [new YamuxMuxer()],
                ListenAddresses = [Multiaddr.Parse("/memory/0")],
            });
            await host.StartAsync();
            return new SimulatedNode(host, transport, new PubSubService(host, key, options), key, misbehaviour);
        }

        public void Subscribe(string topic)
        {
            MessageValidator? validator = Misbehaviour == Misbehaviour.Drop ? (_, _) => ValueTask.FromResult(ValidationResult.Ignore) : null;
            _subscription = PubSub.Subscribe(topic, validator);
            _ = Task.Run(async () =>
            {
                await foreach (var message in _subscription.ReadAllAsync())
                {
                    var number = BitConverter.ToInt32(message.Data!, 0);
                    var published = BitConverter.ToInt64(message.Data!, 8);
                    Received.TryAdd(number, Stopwatch.GetTimestamp() - published);
                }
            });
        }

        public void SpamForged(string topic, int number)
        {
            var signed = MessageSigning.Sign(new PubSubMessage { Topic = topic, Data = Encoding.UTF8.GetBytes($"forged {number}"), Seqno = BitConverter.GetBytes((long)number + 1) }, _key);
            var forged = new PubSubRpc { Messages = [signed with { Data = Encoding.UTF8.GetBytes($"forged! {number}") }] };
            foreach (var connection in Host.GetConnections())
            {
                PubSub.SendRaw(connection.RemotePeer, forged);
            }
        }
    }
}
