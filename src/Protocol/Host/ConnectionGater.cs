using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

/// <summary>
/// The default <see cref="IConnectionGater"/>: deny lists of peers and of IP networks (CIDR), and an optional
/// allow-only-these-networks mode. Thread-safe: the lists can change while connections are being gated.
/// </summary>
/// <remarks>
/// <para>Every <c>/p2p</c> and every <c>/ip4</c> / <c>/ip6</c> component of an address is checked, so a relayed
/// address (<c>/ip4/R/tcp/…/p2p/RELAY/p2p-circuit/p2p/TARGET</c>) is denied when the relay's peer or IP is. An IP
/// matches a network of the other family through its IPv4-mapped IPv6 form (<c>::ffff:a.b.c.d</c>), so denying
/// <c>10.0.0.0/8</c> also denies <c>/ip6/::ffff:10.1.2.3</c>, and denying <c>::ffff:10.0.0.0/104</c> also denies
/// <c>/ip4/10.1.2.3</c>.</para>
/// <para>A denial wins over the allowed networks. An address with no IP component (<c>/dns4/…</c> before resolution,
/// <c>/memory/…</c>) passes the network rules; the dialer gates each resolved address again.</para>
/// <para>The direction given to <see cref="AllowSecured"/> does not change the decision: both directions are gated
/// by the same lists (inbound connections meet the peer list here for the first time).</para>
/// </remarks>
public sealed class ConnectionGater : IConnectionGater
{
    private readonly ConcurrentDictionary<PeerId, bool> _deniedPeers = new();
    private readonly Lock _networkWriteLock = new();
    private NetworkRules _networks = new([], null);

    /// <summary>The denied peers, in no particular order.</summary>
    public IReadOnlyList<PeerId> DeniedPeers => [.. _deniedPeers.Keys];

    /// <summary>The denied networks, in the order they were denied.</summary>
    public IReadOnlyList<IPNetwork> DeniedNetworks => Volatile.Read(ref _networks).Denied;

    /// <summary>The networks outside which every IP address is denied, or null when there is no such restriction.</summary>
    public IReadOnlyList<IPNetwork>? AllowedNetworks => Volatile.Read(ref _networks).Allowed;

    /// <summary>Denies every connection to or from <paramref name="peer"/>.</summary>
    /// <returns>True when the peer was not denied before.</returns>
    public bool DenyPeer(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _deniedPeers.TryAdd(peer, true);
    }

    /// <summary>Lifts a denial of <paramref name="peer"/>.</summary>
    /// <returns>True when the peer was denied.</returns>
    public bool AllowPeer(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return _deniedPeers.TryRemove(peer, out _);
    }

    /// <summary>Denies every address in <paramref name="network"/> (for example <c>IPNetwork.Parse("10.0.0.0/8")</c>).</summary>
    /// <returns>True when the network was not denied before.</returns>
    public bool DenyAddress(IPNetwork network) =>
        UpdateNetworks(rules => rules.Denied.Contains(network) ? null : rules with { Denied = rules.Denied.Add(network) });

    /// <summary>Lifts the denial of exactly <paramref name="network"/> (denials of other networks holding some of
    /// its addresses stay).</summary>
    /// <returns>True when the network was denied.</returns>
    public bool AllowAddress(IPNetwork network) =>
        UpdateNetworks(rules => rules.Denied.Contains(network) ? rules with { Denied = rules.Denied.Remove(network) } : null);

    /// <summary>
    /// Allow-only mode: from now on an IP address outside all of <paramref name="networks"/> is denied (an empty set
    /// denies every IP address); null lifts the restriction. Deny lists still apply inside the allowed networks.
    /// </summary>
    public void RestrictToNetworks(IEnumerable<IPNetwork>? networks)
    {
        ImmutableArray<IPNetwork>? allowed = networks is null ? null : [.. networks.Distinct()];
        UpdateNetworks(rules => rules with { Allowed = allowed });
    }

    /// <inheritdoc/>
    public GateDecision AllowDial(PeerId? peer, Multiaddr address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return peer is not null && _deniedPeers.ContainsKey(peer) ? DeniedPeer(peer) : Check(address);
    }

    /// <inheritdoc/>
    public GateDecision AllowAccept(Multiaddr remoteAddress)
    {
        ArgumentNullException.ThrowIfNull(remoteAddress);
        return Check(remoteAddress);
    }

    /// <inheritdoc/>
    public GateDecision AllowSecured(Direction direction, PeerId peer, Multiaddr remoteAddress)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(remoteAddress);
        return _deniedPeers.ContainsKey(peer) ? DeniedPeer(peer) : Check(remoteAddress);
    }

    private static GateDecision DeniedPeer(PeerId peer) => GateDecision.Denied($"peer {peer} is denied");

    private GateDecision Check(Multiaddr address)
    {
        var rules = Volatile.Read(ref _networks);
        foreach (var component in address.Components)
        {
            if (component.Protocol == MultiaddrProtocol.P2p)
            {
                // The component was validated as a peer id when the multiaddr was made.
                var peer = PeerId.FromBytes(component.Value.Span);
                if (_deniedPeers.ContainsKey(peer))
                {
                    return GateDecision.Denied($"peer {peer} named in {address} is denied");
                }
            }
            else if (component.Protocol == MultiaddrProtocol.Ip4 || component.Protocol == MultiaddrProtocol.Ip6)
            {
                var ip = new IPAddress(component.Value.Span);
                foreach (var network in rules.Denied)
                {
                    if (Contains(network, ip))
                    {
                        return GateDecision.Denied($"{ip} in {address} is in the denied network {network}");
                    }
                }

                if (rules.Allowed is { } allowed && !allowed.Any(network => Contains(network, ip)))
                {
                    return GateDecision.Denied($"{ip} in {address} is outside the allowed networks");
                }
            }
        }

        return GateDecision.Allowed;
    }

    /// <summary>Whether <paramref name="network"/> holds <paramref name="ip"/> or its IPv4 / IPv4-mapped IPv6 twin.</summary>
    private static bool Contains(IPNetwork network, IPAddress ip)
    {
        if (network.Contains(ip))
        {
            return true;
        }

        if (ip.IsIPv4MappedToIPv6)
        {
            return network.Contains(ip.MapToIPv4());
        }

        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && network.Contains(ip.MapToIPv6());
    }

    /// <summary>Copy-on-write: readers see one consistent snapshot without locking.</summary>
    private bool UpdateNetworks(Func<NetworkRules, NetworkRules?> change)
    {
        lock (_networkWriteLock)
        {
            var changed = change(_networks);
            if (changed is null)
            {
                return false;
            }

            Volatile.Write(ref _networks, changed);
            return true;
        }
    }

    private sealed record NetworkRules(ImmutableArray<IPNetwork> Denied, ImmutableArray<IPNetwork>? Allowed);
}
