using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Host;

/// <summary>How <see cref="AddressRanking.Rank"/> orders and paces the dial attempts to one peer.</summary>
public sealed record DialRankingOptions
{
    /// <summary>The defaults: 250 ms between attempts, 4 in parallel, public addresses first.</summary>
    public static DialRankingOptions Default { get; } = new();

    /// <summary>The time between the scheduled starts of consecutive attempts ("happy eyeballs", RFC 8305 uses
    /// 250 ms too). Default 250 ms.</summary>
    public TimeSpan StaggerDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Attempts in flight at once. Default 4.</summary>
    public int MaxParallelDials { get; init; } = 4;

    /// <summary>
    /// Whether loopback and then private (LAN) addresses go before public ones. Off by default: a remote peer's private
    /// address is usually on someone else's LAN, where a dial only times out, and its loopback address is our own
    /// machine. The host turns it on when it knows the peer shares our network (found by mDNS, or a test on one
    /// machine).
    /// </summary>
    public bool PreferLocalAddresses { get; init; }
}

/// <summary>One planned dial: the address and when to start it, counted from the start of the whole dial.</summary>
public sealed record DialAttempt(Multiaddr Address, TimeSpan Delay);

/// <summary>
/// The ranked dial attempts to one peer. The dialer starts each attempt at its <see cref="DialAttempt.Delay"/>, or
/// earlier once every earlier attempt has failed (there is nothing left to wait for), never has more than
/// <see cref="MaxParallel"/> in flight, and stops at the first success.
/// </summary>
public sealed record DialPlan(IReadOnlyList<DialAttempt> Attempts, int MaxParallel);

/// <summary>
/// Ranks a peer's addresses for dialling; a pure function of the addresses and options.
/// </summary>
/// <remarks>
/// <para>Only addresses <c>canDial</c> accepts are kept (the transports decide), each once: addresses that differ only
/// by a trailing <c>/p2p/&lt;id&gt;</c> are one, the first given wins. The order, each rule breaking ties of the
/// previous one:</para>
/// <list type="number">
/// <item>direct before relayed (<c>/p2p-circuit</c>): a relayed connection is limited and costs a relay;</item>
/// <item>IP before DNS before anything else, judged by the first hop (the relay's address for a relayed one): a
/// DNS name needs a lookup first;</item>
/// <item>scope: public, then private (RFC 1918, CGNAT, link-local, unique-local), then loopback; the reverse when
/// <see cref="DialRankingOptions.PreferLocalAddresses"/> is set (a DNS name counts as public);</item>
/// <item>transport: TCP, QUIC, WebSocket, WebTransport, WebRTC, others. TCP first as the transport every peer of
/// ours speaks; the table is <see cref="TransportRank"/>;</item>
/// <item>within each of these groups IPv6 and IPv4 alternate, IPv6 first (RFC 8305 "happy eyeballs"), addresses of
/// unknown family (<c>/dns</c>, <c>/dnsaddr</c>) last; otherwise the given order is kept.</item>
/// </list>
/// <para>Attempt <c>i</c> is scheduled <c>i × </c><see cref="DialRankingOptions.StaggerDelay"/> after the start.</para>
/// </remarks>
public static class AddressRanking
{
    private enum Family
    {
        V6,
        V4,
        Unknown,
    }

    /// <summary>The sort key of a group, compared member by member: direct before relayed, then kind (IP, DNS,
    /// other), scope and transport rank, lower first.</summary>
    private readonly record struct GroupKey(bool Relayed, int Kind, int Scope, int Transport) : IComparable<GroupKey>
    {
        public int CompareTo(GroupKey other) =>
            (Relayed, Kind, Scope, Transport).CompareTo((other.Relayed, other.Kind, other.Scope, other.Transport));
    }

    /// <summary>Ranks <paramref name="addresses"/> into a dial plan (see the class remarks).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative stagger, or fewer than one parallel dial.</exception>
    public static DialPlan Rank(IEnumerable<Multiaddr> addresses, Func<Multiaddr, bool> canDial, DialRankingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(canDial);
        options ??= DialRankingOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.StaggerDelay, TimeSpan.Zero, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxParallelDials, 1, nameof(options));

        var seen = new HashSet<Multiaddr>();
        var ranked = new List<(Multiaddr Address, GroupKey Group, Family Family)>();
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            if (canDial(address) && seen.Add(address.WithoutPeerId()))
            {
                var (group, family) = Classify(address, options.PreferLocalAddresses);
                ranked.Add((address, group, family));
            }
        }

        var attempts = new List<DialAttempt>(ranked.Count);
        foreach (var group in ranked.GroupBy(static entry => entry.Group).OrderBy(static group => group.Key))
        {
            foreach (var address in Interleave(group))
            {
                attempts.Add(new DialAttempt(address, options.StaggerDelay * attempts.Count));
            }
        }

        return new DialPlan(attempts, options.MaxParallelDials);
    }

    /// <summary>The preference of the transport to the first hop; lower dials first.</summary>
    /// <remarks>WebSocket is checked before TCP, which it runs over; likewise WebTransport before QUIC.</remarks>
    public static int TransportRank(Multiaddr address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var hop = FirstHop(address);
        if (Has(hop, MultiaddrProtocol.WebTransport))
        {
            return 3;
        }

        if (Has(hop, MultiaddrProtocol.WebRtcDirect) || Has(hop, MultiaddrProtocol.WebRtc))
        {
            return 4;
        }

        if (Has(hop, MultiaddrProtocol.Ws) || Has(hop, MultiaddrProtocol.Wss))
        {
            return 2;
        }

        if (Has(hop, MultiaddrProtocol.QuicV1) || Has(hop, MultiaddrProtocol.Quic))
        {
            return 1;
        }

        return Has(hop, MultiaddrProtocol.Tcp) ? 0 : 5;
    }

    /// <summary>IPv6 and IPv4 alternately, IPv6 first, each in the given order; then the rest.</summary>
    private static IEnumerable<Multiaddr> Interleave(IEnumerable<(Multiaddr Address, GroupKey Group, Family Family)> group)
    {
        var v6 = new Queue<Multiaddr>();
        var v4 = new Queue<Multiaddr>();
        var unknown = new List<Multiaddr>();
        foreach (var (address, _, family) in group)
        {
            switch (family)
            {
                case Family.V6:
                    v6.Enqueue(address);
                    break;
                case Family.V4:
                    v4.Enqueue(address);
                    break;
                default:
                    unknown.Add(address);
                    break;
            }
        }

        while (v6.Count > 0 || v4.Count > 0)
        {
            if (v6.TryDequeue(out var address6))
            {
                yield return address6;
            }

            if (v4.TryDequeue(out var address4))
            {
                yield return address4;
            }
        }

        foreach (var address in unknown)
        {
            yield return address;
        }
    }

    /// <summary>The group an address sorts in (relayed, kind, scope, transport; lower first) and its IP family.</summary>
    private static (GroupKey Group, Family Family) Classify(Multiaddr address, bool preferLocal)
    {
        var hop = FirstHop(address);
        var index = hop.Length > 1 && hop[0].Protocol == MultiaddrProtocol.Ip6Zone ? 1 : 0;
        var first = index < hop.Length ? hop[index] : null;
        var protocol = first?.Protocol;
        int kind;
        var scope = 0;
        Family family;
        if (first is not null && (protocol == MultiaddrProtocol.Ip4 || protocol == MultiaddrProtocol.Ip6))
        {
            kind = 0;
            var ip = new IPAddress(first.Value.Span);
            if (ip.IsIPv4MappedToIPv6)
            {
                ip = ip.MapToIPv4();
            }

            family = ip.AddressFamily == AddressFamily.InterNetworkV6 ? Family.V6 : Family.V4;
            scope = IPAddress.IsLoopback(ip) ? 2 : IsPrivate(ip) ? 1 : 0;
        }
        else if (protocol == MultiaddrProtocol.Dns || protocol == MultiaddrProtocol.Dns4 || protocol == MultiaddrProtocol.Dns6
                 || protocol == MultiaddrProtocol.DnsAddr)
        {
            kind = 1;
            family = protocol == MultiaddrProtocol.Dns6 ? Family.V6 : protocol == MultiaddrProtocol.Dns4 ? Family.V4 : Family.Unknown;
        }
        else
        {
            kind = 2;
            family = Family.Unknown;
        }

        return (new GroupKey(address.IsRelayed, kind, preferLocal ? 2 - scope : scope, TransportRank(address)), family);
    }

    /// <summary>The components up to the first <c>/p2p-circuit</c>: the way to the relay for a relayed address.</summary>
    private static ReadOnlySpan<MultiaddrComponent> FirstHop(Multiaddr address)
    {
        var components = address.Components.AsSpan();
        for (var i = 0; i < components.Length; i++)
        {
            if (components[i].Protocol == MultiaddrProtocol.P2pCircuit)
            {
                return components[..i];
            }
        }

        return components;
    }

    private static bool Has(ReadOnlySpan<MultiaddrComponent> components, MultiaddrProtocol protocol)
    {
        foreach (var component in components)
        {
            if (component.Protocol == protocol)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 1918, CGNAT (RFC 6598) and link-local IPv4; unique-local, link-local and site-local IPv6.</summary>
    private static bool IsPrivate(IPAddress ip)
    {
        if (ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return ip.IsIPv6UniqueLocal || ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal;
        }

        Span<byte> bytes = stackalloc byte[4];
        ip.TryWriteBytes(bytes, out _);
        return bytes[0] == 10
            || (bytes[0] == 172 && (bytes[1] & 0xF0) == 16)
            || (bytes[0] == 192 && bytes[1] == 168)
            || (bytes[0] == 100 && (bytes[1] & 0xC0) == 64)
            || (bytes[0] == 169 && bytes[1] == 254);
    }
}
