using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Kademlia;
using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.Kademlia;

/// <summary>A DHT node for tests: a real host (TCP, Noise, Yamux on 127.0.0.1), identify and the DHT.</summary>
internal sealed class KadTestNode : IAsyncDisposable
{
    private KadTestNode(PrivateKey key, Libp2pHost host, IdentifyService identify, KadService dht, IKadStore store)
    {
        Key = key;
        Host = host;
        Identify = identify;
        Dht = dht;
        Store = store;
    }

    public PrivateKey Key { get; }

    public Libp2pHost Host { get; }

    public IdentifyService Identify { get; }

    public KadService Dht { get; }

    public IKadStore Store { get; }

    public static async Task<KadTestNode> StartAsync(KadOptions? options = null, PrivateKey? key = null, IKadStore? store = null)
    {
        key ??= PrivateKey.Generate(KeyType.Ed25519);
        store ??= new MemoryKadStore();
        var host = await TestHosts.StartAsync(identity: key);
        var identify = new IdentifyService(host, key, new IdentifyOptions { PushDelay = TimeSpan.FromMilliseconds(10) });
        var dht = new KadService(host, options ?? KadTestNetwork.Options, store, identify: identify);
        return new KadTestNode(key, host, identify, dht, store);
    }

    public async ValueTask DisposeAsync()
    {
        await Dht.DisposeAsync();
        await Identify.DisposeAsync();
        await Host.DisposeAsync();
    }
}

/// <summary>Several <see cref="KadTestNode"/>s joined through the first one.</summary>
internal sealed class KadTestNetwork : IAsyncDisposable
{
    /// <summary>Generous timeouts: tests run on a loaded 2-core machine.</summary>
    public static readonly KadOptions Options = new()
    {
        RequestTimeout = TimeSpan.FromSeconds(20),
        QueryTimeout = TimeSpan.FromSeconds(60),
        BootstrapRetryDelay = TimeSpan.FromSeconds(1),
    };

    private KadTestNetwork(List<KadTestNode> nodes) => Nodes = nodes;

    public List<KadTestNode> Nodes { get; }

    public KadTestNode this[int index] => Nodes[index];

    public static async Task<KadTestNetwork> StartAsync(int count, KadOptions? options = null)
    {
        var nodes = new List<KadTestNode>();
        for (var i = 0; i < count; i++)
        {
            nodes.Add(await KadTestNode.StartAsync(options));
        }

        var network = new KadTestNetwork(nodes);
        var bootstrap = TestHosts.DialAddress(nodes[0].Host);
        await nodes[0].Dht.StartAsync([]);
        foreach (var node in nodes.Skip(1))
        {
            await node.Dht.StartAsync([bootstrap]);
        }

        // A second self-lookup everywhere, now that every node is in somebody's table.
        foreach (var node in nodes)
        {
            await node.Dht.BootstrapAsync([]);
        }

        return network;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
