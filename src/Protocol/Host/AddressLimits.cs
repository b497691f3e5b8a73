using System.Net;

namespace ToolNet.Protocol.Host;

/// <summary>
/// Limits on what one remote IP address, and one subnet of addresses, may hold of the host at once: inbound handshakes
/// in progress, inbound connections, and new inbound connections per second. An address over its share is refused at
/// accept, before any byte is read or any crypto is done, and counted (<see cref="Refusal.AddressPendingUpgradeLimit"/>,
/// <see cref="Refusal.AddressConnectionLimit"/>, <see cref="Refusal.AddressRateLimit"/>, each with the scope that was
/// full: <see cref="ResourceScope.Ip"/> or <see cref="ResourceScope.Subnet"/>). See spec/wire-limits.md, "Limits by
/// address".
/// </summary>
/// <remarks>
/// The defaults let one address hold a quarter of its subnet's share, so that a single misbehaving host leaves room for
/// its neighbours (on loopback every 127.x.y.z is a different address in 127.0.0.0/24). Loopback is not exempt by
/// default: a node behind a reverse proxy or a test on one machine opts in with <see cref="ExemptLoopback"/> or
/// <see cref="ExemptNetworks"/>.
/// </remarks>
public sealed record AddressLimits
{
    /// <summary>The default limits.</summary>
    public static AddressLimits Default { get; } = new();

    /// <summary>No limits by address (every address exempt).</summary>
    public static AddressLimits Unlimited { get; } = new() { ExemptNetworks = [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")] };

    /// <summary>The share of one IP address. An IPv6 host usually holds a whole /64, so for IPv6 the subnet scope is
    /// the one that binds.</summary>
    public AddressScopeLimits PerIp { get; init; } = new()
    {
        PendingUpgrades = 16,
        InboundConnections = 128,
        ConnectionsPerSecond = 32,
        ConnectionBurst = 128,
    };

    /// <summary>The share of one subnet (<see cref="Ipv4SubnetPrefixLength"/>, <see cref="Ipv6SubnetPrefixLength"/>).</summary>
    public AddressScopeLimits PerSubnet { get; init; } = new()
    {
        PendingUpgrades = 64,
        InboundConnections = 512,
        ConnectionsPerSecond = 128,
        ConnectionBurst = 512,
    };

    /// <summary>The prefix length of an IPv4 subnet (default /24).</summary>
    public int Ipv4SubnetPrefixLength { get; init; } = 24;

    /// <summary>The prefix length of an IPv6 subnet (default /56, what a home or small site is usually given).</summary>
    public int Ipv6SubnetPrefixLength { get; init; } = 56;

    /// <summary>Exempt loopback addresses (127.0.0.0/8, ::1) from these limits. Off by default.</summary>
    public bool ExemptLoopback { get; init; }

    /// <summary>Networks exempt from these limits (an allow-list of trusted peers, a reverse proxy). The node-wide
    /// limits (<see cref="ResourceLimits"/>) still apply to them.</summary>
    public IReadOnlyList<IPNetwork> ExemptNetworks { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(PerIp);
        ArgumentNullException.ThrowIfNull(PerSubnet);
        ArgumentNullException.ThrowIfNull(ExemptNetworks);
        PerIp.Validate();
        PerSubnet.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(Ipv4SubnetPrefixLength, 0, nameof(Ipv4SubnetPrefixLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Ipv4SubnetPrefixLength, 32, nameof(Ipv4SubnetPrefixLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(Ipv6SubnetPrefixLength, 0, nameof(Ipv6SubnetPrefixLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Ipv6SubnetPrefixLength, 128, nameof(Ipv6SubnetPrefixLength));
    }
}

/// <summary>What one address scope (an IP address or a subnet) may hold.</summary>
public sealed record AddressScopeLimits
{
    /// <summary>Inbound connections from the scope in the middle of their upgrade (security and muxer handshakes).</summary>
    public required int PendingUpgrades { get; init; }

    /// <summary>Inbound connections from the scope that are open (upgraded).</summary>
    public required int InboundConnections { get; init; }

    /// <summary>New inbound connections per second from the scope, on average (a token bucket refilled at this rate).</summary>
    public required double ConnectionsPerSecond { get; init; }

    /// <summary>New inbound connections the scope may open at once after being quiet (the bucket's size).</summary>
    public required int ConnectionBurst { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(PendingUpgrades, 1, nameof(PendingUpgrades));
        ArgumentOutOfRangeException.ThrowIfLessThan(InboundConnections, 1, nameof(InboundConnections));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectionsPerSecond, 0, nameof(ConnectionsPerSecond));
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionBurst, 1, nameof(ConnectionBurst));
    }
}
