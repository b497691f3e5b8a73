namespace ToolNet.Protocol.Ping;

/// <summary>How a <see cref="PingService"/> limits inbound pings and times outbound ones.</summary>
public sealed record PingOptions
{
    /// <summary>The defaults.</summary>
    public static PingOptions Default { get; } = new();

    /// <summary>Inbound ping streams allowed at once on one connection; the spec says a listener "SHOULD accept at
    /// most two streams per peer".</summary>
    public int MaxInboundStreamsPerConnection { get; init; } = 2;

    /// <summary>How long one ping round trip may take before the ping fails.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(20);
}
