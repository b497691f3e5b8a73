using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Relay;

/// <summary>The resources a relay (the hop side) offers and how it caps them.</summary>
public sealed record RelayServiceOptions
{
    /// <summary>The defaults: go-libp2p's relay resources (reservations for an hour, circuits of 2 minutes and
    /// 128 KiB each way: enough to coordinate a hole punch, not to carry bulk traffic).</summary>
    public static RelayServiceOptions Default { get; } = new();

    /// <summary>How long a reservation lasts before the client must renew it.</summary>
    public TimeSpan ReservationTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Reservations held at once, by all peers.</summary>
    public int MaxReservations { get; init; } = 128;

    /// <summary>Reservations held at once by peers connecting from one IP address.</summary>
    public int MaxReservationsPerIp { get; init; } = 8;

    /// <summary>Circuits open at once through this relay.</summary>
    public int MaxCircuits { get; init; } = 256;

    /// <summary>Circuits open at once from one initiator or to one target.</summary>
    public int MaxCircuitsPerPeer { get; init; } = 16;

    /// <summary>How long a circuit may live; zero for no limit.</summary>
    public TimeSpan CircuitDuration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Bytes a circuit may carry in each direction; zero for no limit.</summary>
    public ulong CircuitData { get; init; } = 128 * 1024;

    /// <summary>How long a client may take to send its request, and the target to answer the stop request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Hop requests being handled at once on one connection.</summary>
    public int MaxHopStreamsPerConnection { get; init; } = 16;

    /// <summary>The addresses given to reserving peers (the relay's public addresses, without <c>/p2p</c>); the host's
    /// listen addresses when null. Called for every reservation, so it can follow address changes.</summary>
    public Func<IReadOnlyList<Multiaddr>>? AdvertisedAddresses { get; init; }
}
