namespace ToolNet.Protocol.Kademlia;

/// <summary>Whether a node answers DHT requests (libp2p/specs <c>kad-dht/README.md</c>, "Client and server mode").</summary>
public enum KadMode
{
    /// <summary>Queries only: no handler is registered, so identify does not announce the protocol and no peer
    /// adds us to its routing table.</summary>
    Client,

    /// <summary>Answers requests: the handler is registered and announced.</summary>
    Server,

    /// <summary>Server once reachability is public, client otherwise. Until reachability is known (there is no
    /// AutoNAT yet) it follows <see cref="KadOptions.AutoModeFallback"/>.</summary>
    Auto,
}

/// <summary>How a <see cref="KadService"/> runs.</summary>
public sealed record KadOptions
{
    /// <summary>The ToolNet network's protocol id (go-libp2p-kad-dht's <c>ProtocolPrefix("/toolnet")</c> speaks it).</summary>
    public const string ToolNetProtocolId = "/toolnet/kad/1.0.0";

    /// <summary>The public libp2p (IPFS) DHT's protocol id.</summary>
    public const string IpfsProtocolId = "/ipfs/kad/1.0.0";

    /// <summary>The defaults.</summary>
    public static KadOptions Default { get; } = new();

    /// <summary>The protocol id spoken and served.</summary>
    public string ProtocolId { get; init; } = ToolNetProtocolId;

    /// <summary>Server, client or auto.</summary>
    public KadMode Mode { get; init; } = KadMode.Server;

    /// <summary>The mode <see cref="KadMode.Auto"/> takes while reachability is unknown.</summary>
    public KadMode AutoModeFallback { get; init; } = KadMode.Client;

    /// <summary>k: bucket size, and how many closest peers a lookup finds and a response carries (spec: 20).</summary>
    public int BucketSize { get; init; } = 20;

    /// <summary>α: requests in flight per lookup (spec default 3; go uses 10).</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>How long one request (dial, stream, answer) may take; a dead peer costs at most this once per lookup.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The deadline of a whole lookup (its CancellationToken can end it sooner).</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an inbound stream may sit idle between requests before we close it.</summary>
    public TimeSpan StreamIdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Valid records a GET_VALUE lookup collects before it stops (go: 16 for IPNS; spec leaves it open).</summary>
    public int GetValueQuorum { get; init; } = 3;

    /// <summary>How long a stored record lives (spec: 48 h; the owner re-publishes before that).</summary>
    public TimeSpan RecordTtl { get; init; } = TimeSpan.FromHours(48);

    /// <summary>How long a provider record lives (48 h as go and js).</summary>
    public TimeSpan ProviderTtl { get; init; } = TimeSpan.FromHours(48);

    /// <summary>How long addresses learned from <c>closerPeers</c> and provider records stay in the peer store.</summary>
    public TimeSpan LearnedAddressTtl { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Peers of one IP /24 (IPv4) or /48 (IPv6) group allowed in one bucket; loopback and private
    /// addresses are not limited (<see cref="LimitPrivateAddresses"/>), so a test network on one host fills.</summary>
    public int MaxPeersPerIpGroupPerBucket { get; init; } = 2;

    /// <summary>Peers of one IP group allowed in the whole table.</summary>
    public int MaxPeersPerIpGroupInTable { get; init; } = 6;

    /// <summary>Whether the IP group limits also apply to loopback and private addresses.</summary>
    public bool LimitPrivateAddresses { get; init; }

    /// <summary>How often buckets not looked up for that long are refreshed by a random lookup in them (spec: 10 min).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The first retry delay of a bootstrap that reached nobody; it doubles up to <see cref="RefreshInterval"/>.</summary>
    public TimeSpan BootstrapRetryDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of expiries, refreshes and timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
