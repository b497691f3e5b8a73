namespace ToolNet.Protocol.Relay;

/// <summary>The kind of a <see cref="HopMessage"/> (circuit-v2 spec, "Hop Protocol").</summary>
public enum HopMessageType
{
    /// <summary>A client asks the relay for a reservation.</summary>
    Reserve = 0,

    /// <summary>A client asks the relay for a circuit to a peer that holds a reservation.</summary>
    Connect = 1,

    /// <summary>The relay's answer to either.</summary>
    Status = 2,
}

/// <summary>The kind of a <see cref="StopMessage"/> (circuit-v2 spec, "Stop Protocol").</summary>
public enum StopMessageType
{
    /// <summary>The relay tells the reserved peer that someone connects to it.</summary>
    Connect = 0,

    /// <summary>The reserved peer's answer.</summary>
    Status = 1,
}

/// <summary>The status codes of the hop and stop protocols.</summary>
public enum RelayStatus
{
    /// <summary>The proto3 zero value; never a meaningful answer.</summary>
    Unused = 0,

    /// <summary>Accepted.</summary>
    Ok = 100,

    /// <summary>The relay will not reserve (too many reservations, over a per-peer or per-IP cap).</summary>
    ReservationRefused = 200,

    /// <summary>Too many circuits from the initiator or to the target.</summary>
    ResourceLimitExceeded = 201,

    /// <summary>Refused by policy.</summary>
    PermissionDenied = 202,

    /// <summary>The relay could not reach the target, or the target could not accept.</summary>
    ConnectionFailed = 203,

    /// <summary>The target holds no reservation.</summary>
    NoReservation = 204,

    /// <summary>The request could not be decoded or lacks a required field.</summary>
    MalformedMessage = 400,

    /// <summary>A message of the wrong type for this point of the exchange.</summary>
    UnexpectedMessage = 401,
}

/// <summary>A peer in a hop or stop message: its id (multihash bytes) and, rarely, addresses (encoded multiaddrs).</summary>
/// <param name="Id">The peer id's bytes, as sent; the session parses them.</param>
/// <param name="Addresses">Encoded multiaddrs, as sent.</param>
public sealed record RelayPeerInfo(byte[] Id, IReadOnlyList<byte[]> Addresses);

/// <summary>A granted reservation.</summary>
/// <param name="Expire">When it lapses, in seconds since the Unix epoch (UTC).</param>
/// <param name="Addresses">The relay's public addresses, each ending in <c>/p2p/RELAY</c>, encoded.</param>
/// <param name="Voucher">The signed reservation voucher (an envelope), if the relay gave one.</param>
public sealed record RelayReservation(ulong Expire, IReadOnlyList<byte[]> Addresses, byte[]? Voucher);

/// <summary>The limits of a relayed connection; an absent or zero value means no limit.</summary>
/// <param name="Duration">Seconds a circuit may live.</param>
/// <param name="Data">Bytes a circuit may carry in each direction.</param>
public sealed record RelayLimit(uint? Duration, ulong? Data)
{
    /// <summary>The duration as a span, or null when unlimited.</summary>
    public TimeSpan? DurationSpan => Duration is > 0 ? TimeSpan.FromSeconds(Duration.Value) : null;

    /// <summary>The per-direction byte cap, or null when unlimited.</summary>
    public ulong? DataCap => Data is > 0 ? Data : null;
}

/// <summary>A message of <c>/libp2p/circuit/relay/0.2.0/hop</c>. Fields absent on the wire are null; an unknown
/// <see cref="Type"/> value is kept as is so that the session can answer it.</summary>
public sealed record HopMessage
{
    public HopMessageType Type { get; init; }

    public RelayPeerInfo? Peer { get; init; }

    public RelayReservation? Reservation { get; init; }

    public RelayLimit? Limit { get; init; }

    public RelayStatus? Status { get; init; }
}

/// <summary>A message of <c>/libp2p/circuit/relay/0.2.0/stop</c>. Fields absent on the wire are null.</summary>
public sealed record StopMessage
{
    public StopMessageType Type { get; init; }

    public RelayPeerInfo? Peer { get; init; }

    public RelayLimit? Limit { get; init; }

    public RelayStatus? Status { get; init; }
}
