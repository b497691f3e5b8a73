namespace ToolNet.Protocol.Relay;

/// <summary>How the client side of circuit relay v2 (dialling through relays, reserving, accepting circuits) behaves.</summary>
public sealed record CircuitRelayClientOptions
{
    /// <summary>The defaults.</summary>
    public static CircuitRelayClientOptions Default { get; } = new();

    /// <summary>How long a relay may take to answer a RESERVE or CONNECT, and a relay to send its stop request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Accepted circuits waiting for the host to take them; more are refused with RESOURCE_LIMIT_EXCEEDED.</summary>
    public int MaxPendingInboundCircuits { get; init; } = 32;

    /// <summary>Whether circuits are accepted only from relays we hold a reservation on (true), or from any peer.</summary>
    public bool AcceptOnlyFromReservedRelays { get; init; } = true;
}
