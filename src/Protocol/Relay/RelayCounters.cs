namespace ToolNet.Protocol.Relay;

/// <summary>What a relay counts. Each value is a counter in <see cref="RelayCounters"/>.</summary>
public enum RelayCounter
{
    /// <summary>A reservation was granted or renewed.</summary>
    ReservationAccepted,

    /// <summary>A reservation was refused: a cap (total, per IP) reached.</summary>
    ReservationRefused,

    /// <summary>A circuit was bridged.</summary>
    CircuitOpened,

    /// <summary>A CONNECT named a peer without a reservation.</summary>
    CircuitNoReservation,

    /// <summary>A CONNECT was refused by a circuit cap (total, per initiator, per target).</summary>
    CircuitResourceLimit,

    /// <summary>The target could not be reached or refused the stop request.</summary>
    CircuitConnectionFailed,

    /// <summary>A circuit was cut at its data cap.</summary>
    CircuitDataLimit,

    /// <summary>A circuit was cut at its duration limit.</summary>
    CircuitDurationLimit,

    /// <summary>A hop request was malformed, of an unexpected type, or not sent in time.</summary>
    MalformedRequest,
}

/// <summary>Thread-safe counters of one relay, and the bytes it relayed.</summary>
public sealed class RelayCounters
{
    private readonly long[] _counts = new long[Enum.GetValues<RelayCounter>().Length];
    private long _relayedBytes;

    /// <summary>The current count of <paramref name="counter"/>.</summary>
    public long this[RelayCounter counter] => Interlocked.Read(ref _counts[(int)counter]);

    /// <summary>Bytes carried through circuits, both directions together.</summary>
    public long RelayedBytes => Interlocked.Read(ref _relayedBytes);

    /// <summary>All counters, for logs and metrics.</summary>
    public IReadOnlyDictionary<RelayCounter, long> Snapshot() =>
        Enum.GetValues<RelayCounter>().ToDictionary(c => c, c => this[c]);

    internal void Increment(RelayCounter counter) => Interlocked.Increment(ref _counts[(int)counter]);

    internal void AddRelayed(long bytes) => Interlocked.Add(ref _relayedBytes, bytes);
}
