namespace ToolNet.Protocol.Host;

/// <summary>Why the host refused or dropped something. Each value is a counter in <see cref="HostCounters"/>.</summary>
public enum Refusal
{
    /// <summary>The connection gater denied a dial.</summary>
    DialGated,

    /// <summary>The connection gater denied an accepted connection (before or after the handshake).</summary>
    AcceptGated,

    /// <summary>The total connection limit was reached.</summary>
    ConnectionLimit,

    /// <summary>The per-peer connection limit was reached.</summary>
    PeerConnectionLimit,

    /// <summary>Too many inbound handshakes were in progress.</summary>
    PendingUpgradeLimit,

    /// <summary>An inbound connection failed to upgrade (bad handshake, timeout, no common protocol).</summary>
    UpgradeFailed,

    /// <summary>An inbound stream named no protocol we handle, or negotiation failed or timed out.</summary>
    StreamNegotiationFailed,

    /// <summary>A protocol's per-connection inbound stream limit was reached.</summary>
    ProtocolStreamLimit,

    /// <summary>A stream was refused on a limited (relayed) connection because its handler did not opt in.</summary>
    LimitedConnection,

    /// <summary>The connection manager closed a connection to get under its high watermark.</summary>
    Trimmed,

    /// <summary>An IP address or subnet had as many inbound handshakes in progress as it may (<see cref="AddressLimits"/>).</summary>
    AddressPendingUpgradeLimit,

    /// <summary>An IP address or subnet had as many inbound connections open as it may.</summary>
    AddressConnectionLimit,

    /// <summary>An IP address or subnet opened new connections faster than it may.</summary>
    AddressRateLimit,

    /// <summary>The muxer refused an inbound stream: the connection's inbound stream cap
    /// (<see cref="ResourceScope.Connection"/>) or the node's stream limit (<see cref="ResourceScope.Node"/>).</summary>
    StreamLimit,

    /// <summary>The muxer refused an inbound stream whose initial receive window did not fit the connection's receive
    /// budget (<see cref="ResourceScope.Connection"/>) or the node's receive memory (<see cref="ResourceScope.Node"/>).</summary>
    StreamMemoryLimit,
}

/// <summary>Whose share of a limit was used up when something was refused.</summary>
public enum ResourceScope
{
    /// <summary>The whole node (<see cref="ResourceLimits"/>).</summary>
    Node,

    /// <summary>One subnet of remote addresses (<see cref="AddressLimits.PerSubnet"/>).</summary>
    Subnet,

    /// <summary>One remote IP address (<see cref="AddressLimits.PerIp"/>).</summary>
    Ip,

    /// <summary>One remote peer.</summary>
    Peer,

    /// <summary>One connection (its muxer's limits, a protocol's share of its streams).</summary>
    Connection,
}

/// <summary>Thread-safe refusal counters of one host, by reason and scope. They only grow: a refusal on a connection
/// stays counted after the connection closes.</summary>
public sealed class HostCounters
{
    private static readonly Refusal[] Refusals = Enum.GetValues<Refusal>();
    private static readonly ResourceScope[] Scopes = Enum.GetValues<ResourceScope>();
    private readonly long[] _counts = new long[Refusals.Length * Scopes.Length];

    /// <summary>The count of <paramref name="refusal"/> over all scopes.</summary>
    public long this[Refusal refusal] => Scopes.Sum(scope => this[refusal, scope]);

    /// <summary>The count of <paramref name="refusal"/> in <paramref name="scope"/>.</summary>
    public long this[Refusal refusal, ResourceScope scope] => Interlocked.Read(ref _counts[Index(refusal, scope)]);

    /// <summary>All counters by reason (summed over scopes), for logs and metrics.</summary>
    public IReadOnlyDictionary<Refusal, long> Snapshot() =>
        Refusals.ToDictionary(r => r, r => this[r]);

    /// <summary>The counters that are not zero, by reason and scope.</summary>
    public IReadOnlyDictionary<(Refusal Refusal, ResourceScope Scope), long> SnapshotByScope() =>
        Refusals.SelectMany(r => Scopes.Select(s => (Refusal: r, Scope: s)))
            .Where(key => this[key.Refusal, key.Scope] != 0)
            .ToDictionary(key => key, key => this[key.Refusal, key.Scope]);

    internal void Increment(Refusal refusal, ResourceScope scope) => Interlocked.Increment(ref _counts[Index(refusal, scope)]);


    private static int Index(Refusal refusal, ResourceScope scope) => ((int)refusal * Scopes.Length) + (int)scope;
}
