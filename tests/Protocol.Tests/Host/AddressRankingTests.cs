using FsCheck.Xunit;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Host;
using static ToolNet.Protocol.Tests.Peers.TestPeers;

namespace ToolNet.Protocol.Tests.Host;

public class AddressRankingTests
{
    private static readonly string Relay = NewPeer().ToString();

    /// <summary>A pool for the properties: every kind, scope, family and transport, relayed or not.</summary>
    private static readonly Multiaddr[] Pool = [.. new[]
    {
        "/ip4/198.51.100.1/tcp/1", "/ip4/198.51.100.2/tcp/2/ws", "/ip4/198.51.100.3/udp/3/quic-v1",
        "/ip6/2001:db8::1/tcp/1", "/ip6/2001:db8::2/tcp/2/wss", "/ip6/2001:db8::3/udp/3/quic-v1/webtransport",
        "/ip4/192.168.1.1/tcp/1", "/ip6/fd00::1/tcp/1", "/ip4/127.0.0.1/tcp/1", "/ip6/::1/tcp/1",
        "/dns4/example.com/tcp/1", "/dns6/example.com/tcp/1", "/dns/example.com/tcp/1", "/dnsaddr/example.com",
        "/memory/7", "/ip4/198.51.100.9/udp/9/webrtc-direct",
        $"/ip4/203.0.113.1/tcp/1/p2p/{Relay}/p2p-circuit", $"/ip6/2001:db8::9/tcp/1/p2p/{Relay}/p2p-circuit",
        $"/dns4/relay.example.com/tcp/1/ws/p2p/{Relay}/p2p-circuit",
    }.Select(Multiaddr.Parse)];

    [Fact]
    public void Direct_goes_before_relayed_and_IP_before_DNS()
    {
        var plan = Rank(
            $"/ip4/203.0.113.1/tcp/1/p2p/{Relay}/p2p-circuit",
            "/dns4/example.com/tcp/1",
            "/memory/7",
            "/ip4/198.51.100.1/tcp/1");

        Assert.Equal(
            ["/ip4/198.51.100.1/tcp/1", "/dns4/example.com/tcp/1", "/memory/7", $"/ip4/203.0.113.1/tcp/1/p2p/{Relay}/p2p-circuit"],
            Texts(plan));
    }

    [Fact]
    public void Transports_go_TCP_QUIC_WebSocket_WebTransport_WebRTC()
    {
        var plan = Rank(
            "/ip4/198.51.100.1/udp/5/webrtc-direct",
            "/ip4/198.51.100.1/udp/4/quic-v1/webtransport",
            "/ip4/198.51.100.1/tcp/3/wss",
            "/ip4/198.51.100.1/tcp/2/ws",
            "/ip4/198.51.100.1/udp/1/quic-v1",
            "/ip4/198.51.100.1/tcp/1");

        Assert.Equal(
            [
                "/ip4/198.51.100.1/tcp/1", "/ip4/198.51.100.1/udp/1/quic-v1", "/ip4/198.51.100.1/tcp/3/wss",
                "/ip4/198.51.100.1/tcp/2/ws", "/ip4/198.51.100.1/udp/4/quic-v1/webtransport",
                "/ip4/198.51.100.1/udp/5/webrtc-direct",
            ],
            Texts(plan));
    }

    [Fact]
    public void IPv6_and_IPv4_alternate_within_a_group_IPv6_first()
    {
        var plan = Rank(
            "/ip4/198.51.100.1/tcp/1",
            "/ip4/198.51.100.2/tcp/1",
            "/ip4/198.51.100.3/tcp/1",
            "/ip6/2001:db8::1/tcp/1",
            "/ip6/2001:db8::2/tcp/1",
            "/ip4/198.51.100.4/tcp/1/ws",
            "/ip6/2001:db8::3/tcp/1/ws");

        Assert.Equal(
            [
                "/ip6/2001:db8::1/tcp/1", "/ip4/198.51.100.1/tcp/1", "/ip6/2001:db8::2/tcp/1", "/ip4/198.51.100.2/tcp/1",
                "/ip4/198.51.100.3/tcp/1", "/ip6/2001:db8::3/tcp/1/ws", "/ip4/198.51.100.4/tcp/1/ws",
            ],
            Texts(plan));
    }

    [Fact]
    public void DNS_names_of_unknown_family_come_after_the_interleaved_ones()
    {
        var plan = Rank("/dns/example.com/tcp/1", "/dns4/example.com/tcp/1", "/dns6/example.com/tcp/1");

        Assert.Equal(["/dns6/example.com/tcp/1", "/dns4/example.com/tcp/1", "/dns/example.com/tcp/1"], Texts(plan));
    }

    [Fact]
    public void Public_goes_before_private_before_loopback_unless_local_is_preferred()
    {
        string[] addresses =
        [
            "/ip4/127.0.0.1/tcp/1", "/ip4/10.0.0.1/tcp/1", "/ip4/100.64.0.1/tcp/1", "/ip4/198.51.100.1/tcp/1",
            "/ip6/fe80::1/tcp/1", "/ip4/172.16.0.1/tcp/1", "/ip4/172.32.0.1/tcp/1",
        ];

        Assert.Equal(
            [
                "/ip4/198.51.100.1/tcp/1", "/ip4/172.32.0.1/tcp/1", "/ip6/fe80::1/tcp/1", "/ip4/10.0.0.1/tcp/1",
                "/ip4/100.64.0.1/tcp/1", "/ip4/172.16.0.1/tcp/1", "/ip4/127.0.0.1/tcp/1",
            ],
            Texts(Rank(addresses)));
        Assert.Equal(
            [
                "/ip4/127.0.0.1/tcp/1", "/ip6/fe80::1/tcp/1", "/ip4/10.0.0.1/tcp/1", "/ip4/100.64.0.1/tcp/1",
                "/ip4/172.16.0.1/tcp/1", "/ip4/198.51.100.1/tcp/1", "/ip4/172.32.0.1/tcp/1",
            ],
            Texts(AddressRanking.Rank(addresses.Select(Multiaddr.Parse), _ => true, new DialRankingOptions { PreferLocalAddresses = true })));
    }

    [Fact]
    public void Undialable_and_duplicate_addresses_are_dropped()
    {
        var peer = NewPeer();
        var plan = AddressRanking.Rank(
            [
                Multiaddr.Parse($"/ip4/198.51.100.1/tcp/1/p2p/{peer}"),
                Multiaddr.Parse("/ip4/198.51.100.1/tcp/1"),
                Multiaddr.Parse("/ip4/198.51.100.1/udp/1/quic-v1"),
                Multiaddr.Parse($"/ip4/198.51.100.1/tcp/1/p2p/{peer}"),
            ],
            address => !address.Contains(MultiaddrProtocol.QuicV1));

        Assert.Equal([$"/ip4/198.51.100.1/tcp/1/p2p/{peer}"], Texts(plan));
    }

    [Fact]
    public void Attempts_are_staggered_and_the_plan_carries_the_parallel_cap()
    {
        var options = new DialRankingOptions { StaggerDelay = TimeSpan.FromMilliseconds(100), MaxParallelDials = 2 };
        var plan = AddressRanking.Rank(Pool.Take(4), _ => true, options);

        Assert.Equal([0, 100, 200, 300], plan.Attempts.Select(attempt => attempt.Delay.TotalMilliseconds));
        Assert.Equal(2, plan.MaxParallel);
        Assert.Equal(TimeSpan.FromMilliseconds(250), Rank(Pool).Attempts[1].Delay);
        Assert.Empty(AddressRanking.Rank([], _ => true).Attempts);
        Assert.Throws<ArgumentOutOfRangeException>(() => AddressRanking.Rank(Pool, _ => true, new DialRankingOptions { MaxParallelDials = 0 }));
    }

    [Property]
    public void A_plan_holds_each_dialable_address_once_in_rank_order_on_a_fixed_stagger(byte[] picks, bool preferLocal)
    {
        var addresses = picks.Select(pick => Pool[pick % Pool.Length]).ToList();
        Func<Multiaddr, bool> canDial = address => address.ToString().Length % 5 != 0;
        var plan = AddressRanking.Rank(addresses, canDial, new DialRankingOptions { PreferLocalAddresses = preferLocal });

        var planned = plan.Attempts.Select(attempt => attempt.Address).ToList();
        Assert.True(addresses.Where(canDial).ToHashSet().SetEquals(planned));
        Assert.Equal(planned.Count, planned.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, planned.Count).Select(i => TimeSpan.FromMilliseconds(250 * i)), plan.Attempts.Select(attempt => attempt.Delay));

        // Direct before relayed, and within each, IP before DNS before the rest.
        var ranks = planned.Select(address => ((address.IsRelayed ? 1 : 0) * 3) + Kind(address)).ToList();
        Assert.Equal(ranks.Order(), ranks);
    }

    private static int Kind(Multiaddr address)
    {
        var protocol = address.Components[0].Protocol;
        return protocol == MultiaddrProtocol.Ip4 || protocol == MultiaddrProtocol.Ip6 ? 0
            : protocol.Name.StartsWith("dns", StringComparison.Ordinal) ? 1
            : 2;
    }

    private static DialPlan Rank(params string[] addresses) => Rank(addresses.Select(Multiaddr.Parse));

    private static DialPlan Rank(IEnumerable<Multiaddr> addresses) => AddressRanking.Rank(addresses, _ => true);

    private static List<string> Texts(DialPlan plan) => [.. plan.Attempts.Select(attempt => attempt.Address.ToString())];
}
