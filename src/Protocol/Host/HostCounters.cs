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
}

/// <summary>Thread-safe refusal counters of one host.</summary>
public sealed class HostCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<Refusal>().Length];

    /// <summary>The current count of <paramref name="refusal"/>.</summary>
    public long this[Refusal refusal] => Interlocked.Read(ref _counts[(int)refusal]);

    /// <summary>All counters, for logs and metrics.</summary>
    public IReadOnlyDictionary<Refusal, long> Snapshot() =>
        Enum.GetValues<Refusal>().ToDictionary(r => r, r => this[r]);

    internal void Increment(Refusal refusal) => Interlocked.Increment(ref _counts[(int)refusal]);
}
