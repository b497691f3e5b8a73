using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Pnet;

namespace ToolNet.Protocol.Host;

/// <summary>Everything a <see cref="Libp2pHost"/> is built from. Transports, security and muxers are in
/// preference order.</summary>
public sealed record HostOptions
{
    /// <summary>The node's identity key.</summary>
    public required PrivateKey Identity { get; init; }

    /// <summary>Transports, tried in order for each address.</summary>
    public required IReadOnlyList<ITransport> Transports { get; init; }

    /// <summary>Security protocols in preference order (Noise).</summary>
    public required IReadOnlyList<ISecurityProtocol> Security { get; init; }

    /// <summary>Stream muxers in preference order (Yamux).</summary>
    public required IReadOnlyList<IStreamMuxer> Muxers { get; init; }

    /// <summary>Addresses to listen on at start; port 0 picks a free port.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get; init; } = [];

    /// <summary>The private network every connection must be in (libp2p pnet, a pre-shared key); null for the public
    /// network. Peers without the same key fail at the first protocol header with <see cref="PrivateNetworkMismatchException"/>.</summary>
    public PrivateNetworkProtector? PrivateNetwork { get; init; }

    /// <summary>Admission control for dials and accepts; null allows everything.</summary>
    public IConnectionGater? Gater { get; init; }

    /// <summary>Hard limits; refusals are counted in <see cref="Libp2pHost.Counters"/>.</summary>
    public ResourceLimits Limits { get; init; } = new();

    /// <summary>How many connections to keep and which to trim.</summary>
    public ConnectionManagerOptions ConnectionManager { get; init; } = new();

    /// <summary>How long a raw connection may take to become secure and multiplexed.</summary>
    public TimeSpan UpgradeTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long an inbound stream may take to agree on a protocol.</summary>
    public TimeSpan NegotiationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How a peer's addresses are ordered and staggered when dialling it.</summary>
    public DialRankingOptions DialRanking { get; init; } = DialRankingOptions.Default;

    /// <summary>Where peers' addresses, keys and protocols are kept; null makes an in-memory <see cref="PeerStore"/>.</summary>
    public IPeerStore? PeerStore { get; init; }

    /// <summary>Dial from the port we listen on (SO_REUSEPORT), as NAT traversal needs: the remote then observes
    /// our listen port, and a simultaneous open through a NAT can succeed.</summary>
    public bool DialFromListenPort { get; init; }

    /// <summary>How long a whole dial (all attempts) may take.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Clock for TTLs, grace periods and timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Hard resource limits of the host. Each refusal is logged and counted. Per-connection stream and memory limits
/// belong to the muxer (<c>YamuxOptions.MaxInboundStreams</c>, <c>MaxStreamWindowSize</c>,
/// <c>MaxConnectionReceiveBuffer</c>); per-protocol stream limits to <see cref="StreamHandlerOptions"/>.
/// </summary>
public sealed record ResourceLimits
{
    /// <summary>Open connections in total, inbound and outbound.</summary>
    public int MaxConnections { get; init; } = 16_384;

    /// <summary>Open connections to a single peer.</summary>
    public int MaxConnectionsPerPeer { get; init; } = 8;

    /// <summary>Inbound raw connections that may be mid-handshake at once (a SYN-flood of slow handshakes
    /// cannot exhaust memory).</summary>
    public int MaxPendingInboundUpgrades { get; init; } = 256;

    /// <summary>Receive memory of the whole node: every byte of receive window granted to remotes, on all streams of
    /// all connections (each connection also has its own budget, <c>YamuxOptions.MaxConnectionReceiveBuffer</c>).
    /// When it is used up, new inbound streams are refused (RST) and outbound opens fail, while existing streams go
    /// on; window growth stops while less than a quarter is free. The default, 256 MiB, is a quarter of a 1 GiB node.</summary>
    public long MaxReceiveMemory { get; init; } = 256L * 1024 * 1024;

    /// <summary>Streams open at once on all connections; beyond it new inbound streams are refused (RST) and
    /// outbound opens fail.</summary>
    public int MaxStreams { get; init; } = 32_768;

    /// <summary>What one remote IP address and one subnet may hold of the node: handshakes in progress, inbound
    /// connections, new connections per second. Checked at accept, before the node-wide limits.</summary>
    public AddressLimits PerAddress { get; init; } = AddressLimits.Default;
}

/// <summary>Connection manager settings (go-libp2p's watermarks, our defaults).</summary>
public sealed record ConnectionManagerOptions
{
    /// <summary>Trim down to this many connections.</summary>
    public int LowWater { get; init; } = 12_000;

    /// <summary>Start trimming above this many connections.</summary>
    public int HighWater { get; init; } = 14_000;

    /// <summary>New connections are never trimmed within this period.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often the manager checks even without new connections.</summary>
    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMinutes(1);
}
