using System.Reflection;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Identify;

/// <summary>How an <see cref="IdentifyService"/> presents us and treats what peers say.</summary>
public sealed record IdentifyOptions
{
    /// <summary>The defaults.</summary>
    public static IdentifyOptions Default { get; } = new();

    /// <summary>The protocol family we announce (the spec's example is <c>/my-network/0.1.0</c>).</summary>
    public string ProtocolVersion { get; init; } = "ipfs/0.1.0";

    /// <summary>Our implementation, <c>toolnet/&lt;version&gt;</c> by default.</summary>
    public string AgentVersion { get; init; } = DefaultAgentVersion();

    /// <summary>How long one identify or push exchange may take, both directions.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long addresses learned through identify stay in the peer store.</summary>
    public TimeSpan AddressTtl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Whether to identify every new connection as soon as the host opens it.</summary>
    public bool IdentifyOnConnect { get; init; } = true;

    /// <summary>The addresses we announce (listen addresses and peer record); the host's listen addresses when null.
    /// Called for every message, so it can follow address changes.</summary>
    public Func<IReadOnlyList<Multiaddr>>? AdvertisedAddresses { get; init; }

    /// <summary>How many pushes run at once, to all peers together (each peer has at most one at a time).</summary>
    public int MaxConcurrentPushes { get; init; } = 16;

    /// <summary>Whether to push to connected peers on our own when the host reports that our protocols or listen
    /// addresses changed (<see cref="Core.IHost.LocalPeerChanged"/>).</summary>
    public bool PushOnChange { get; init; } = true;

    /// <summary>How long after the first of a burst of changes we push: the changes made meanwhile (several handlers
    /// registered, listeners opened at start) go out in that one push.</summary>
    public TimeSpan PushDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The clock of <see cref="PushDelay"/> and of our signed peer record's sequence number.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    private static string DefaultAgentVersion()
    {
        var version = typeof(IdentifyOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(IdentifyOptions).Assembly.GetName().Version?.ToString(3)
            ?? "0.0.0";
        var metadata = version.IndexOf('+', StringComparison.Ordinal);
        return "toolnet/" + (metadata < 0 ? version : version[..metadata]);
    }
}
