using System.Net;
using FsCheck.Xunit;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Peers;
using static ToolNet.Protocol.Tests.Peers.TestPeers;

namespace ToolNet.Protocol.Tests.Host;

public class ConnectionGaterTests
{
    private static readonly Multiaddr Public4 = Multiaddr.Parse("/ip4/198.51.100.7/tcp/4001");

    private readonly ConnectionGater _gater = new();
    private readonly PeerId _peer = NewPeer();

    [Fact]
    public void Nothing_is_denied_by_default()
    {
        Assert.Equal(GateDecision.Allowed, _gater.AllowDial(_peer, Public4));
        Assert.Equal(GateDecision.Allowed, _gater.AllowDial(null, Public4.WithPeerId(_peer)));
        Assert.Equal(GateDecision.Allowed, _gater.AllowAccept(Public4));
        Assert.Equal(GateDecision.Allowed, _gater.AllowSecured(Direction.Inbound, _peer, Public4));
        Assert.Null(_gater.AllowedNetworks);
    }

    [Fact]
    public void A_denied_peer_is_refused_at_every_gate_until_allowed_again()
    {
        Assert.True(_gater.DenyPeer(_peer));
        Assert.False(_gater.DenyPeer(_peer));

        AssertDenied(_gater.AllowDial(_peer, Public4), _peer.ToString());
        AssertDenied(_gater.AllowDial(null, Public4.WithPeerId(_peer)), _peer.ToString());
        AssertDenied(_gater.AllowSecured(Direction.Inbound, _peer, Public4), _peer.ToString());
        AssertDenied(_gater.AllowSecured(Direction.Outbound, _peer, Public4), _peer.ToString());
        Assert.Equal(GateDecision.Allowed, _gater.AllowDial(NewPeer(), Public4));
        Assert.Equal([_peer], _gater.DeniedPeers);

        Assert.True(_gater.AllowPeer(_peer));
        Assert.False(_gater.AllowPeer(_peer));
        Assert.True(_gater.AllowDial(_peer, Public4).IsAllowed);
        Assert.True(_gater.AllowSecured(Direction.Inbound, _peer, Public4).IsAllowed);
    }

    [Fact]
    public void A_relayed_address_is_denied_through_a_denied_relay_peer_or_relay_ip()
    {
        var relay = NewPeer();
        var relayed = Multiaddr.Parse($"/ip4/203.0.113.9/tcp/4001/p2p/{relay}/p2p-circuit/p2p/{_peer}");

        _gater.DenyPeer(relay);
        AssertDenied(_gater.AllowDial(_peer, relayed), relay.ToString());
        _gater.AllowPeer(relay);
        Assert.True(_gater.AllowDial(_peer, relayed).IsAllowed);

        _gater.DenyAddress(IPNetwork.Parse("203.0.113.0/24"));
        AssertDenied(_gater.AllowDial(_peer, relayed), "203.0.113.0/24");
    }

    [Fact]
    public void An_IPv4_network_denies_its_addresses_also_in_IPv4_mapped_IPv6_form()
    {
        Assert.True(_gater.DenyAddress(IPNetwork.Parse("10.0.0.0/8")));
        Assert.False(_gater.DenyAddress(IPNetwork.Parse("10.0.0.0/8")));

        AssertDenied(_gater.AllowDial(_peer, Multiaddr.Parse("/ip4/10.1.2.3/tcp/1")), "10.0.0.0/8");
        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip4/10.255.255.255/udp/1/quic-v1")), "10.255.255.255");
        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip6/::ffff:10.1.2.3/tcp/1")), "10.0.0.0/8");
        AssertDenied(_gater.AllowSecured(Direction.Inbound, _peer, Multiaddr.Parse("/ip4/10.0.0.1/tcp/1")), "10.0.0.1");
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip4/11.0.0.1/tcp/1")).IsAllowed);
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip6/::ffff:11.0.0.1/tcp/1")).IsAllowed);
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip6/::a01:203/tcp/1")).IsAllowed); // IPv4-compatible, not mapped

        Assert.True(_gater.AllowAddress(IPNetwork.Parse("10.0.0.0/8")));
        Assert.False(_gater.AllowAddress(IPNetwork.Parse("10.0.0.0/8")));
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip4/10.1.2.3/tcp/1")).IsAllowed);
        Assert.Empty(_gater.DeniedNetworks);
    }

    [Fact]
    public void An_IPv6_network_denies_its_addresses()
    {
        _gater.DenyAddress(IPNetwork.Parse("2001:db8::/32"));

        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip6/2001:db8::1/tcp/1")), "2001:db8::/32");
        AssertDenied(_gater.AllowDial(null, Multiaddr.Parse("/ip6zone/3/ip6/2001:db8:ffff::1/tcp/1")), "2001:db8:ffff::1");
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip6/2001:db9::1/tcp/1")).IsAllowed);
        Assert.True(_gater.AllowAccept(Public4).IsAllowed);
    }

    [Fact]
    public void A_mapped_IPv6_network_denies_plain_IPv4_addresses()
    {
        _gater.DenyAddress(IPNetwork.Parse("::ffff:192.168.0.0/112"));

        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.168.7.7/tcp/1")), "192.168.7.7");
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.169.7.7/tcp/1")).IsAllowed);
    }

    [Fact]
    public void Allow_only_mode_refuses_addresses_outside_the_networks_and_denials_still_win()
    {
        _gater.RestrictToNetworks([IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("fd00::/8")]);
        Assert.Equal(2, _gater.AllowedNetworks!.Count);

        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.168.1.1/tcp/1")).IsAllowed);
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip6/fd00::1/tcp/1")).IsAllowed);
        AssertDenied(_gater.AllowAccept(Public4), "outside the allowed networks");
        Assert.True(_gater.AllowDial(null, Multiaddr.Parse("/dns4/example.com/tcp/1")).IsAllowed);

        _gater.DenyAddress(IPNetwork.Parse("192.168.1.0/24"));
        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.168.1.1/tcp/1")), "denied network");
        Assert.True(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.168.2.1/tcp/1")).IsAllowed);

        _gater.RestrictToNetworks([]);
        AssertDenied(_gater.AllowAccept(Multiaddr.Parse("/ip4/192.168.2.1/tcp/1")), "outside");

        _gater.RestrictToNetworks(null);
        Assert.True(_gater.AllowAccept(Public4).IsAllowed);
        Assert.Null(_gater.AllowedNetworks);
    }

    [Fact]
    public void A_decision_says_what_it_is()
    {
        Assert.Equal("allowed", GateDecision.Allowed.ToString());
        Assert.Equal("denied: no", GateDecision.Denied("no").ToString());
        Assert.False(default(GateDecision).IsAllowed);
        Assert.Throws<ArgumentException>(() => GateDecision.Denied(""));
    }

    [Fact]
    public async Task Lists_can_change_while_connections_are_gated()
    {
        var peers = NewPeers(8);
        var networks = Enumerable.Range(0, 8).Select(i => IPNetwork.Parse($"10.{i}.0.0/16")).ToArray();
        var writers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            for (var round = 0; round < 500; round++)
            {
                var i = round % 8;
                _gater.DenyPeer(peers[i]);
                _gater.DenyAddress(networks[i]);
                _gater.AllowPeer(peers[i]);
                _gater.AllowAddress(networks[i]);
            }
        }));
        var readers = Enumerable.Range(0, 4).Select(reader => Task.Run(() =>
        {
            for (var round = 0; round < 2000; round++)
            {
                var i = (round + reader) % 8;
                var decision = _gater.AllowSecured(Direction.Inbound, peers[i], Multiaddr.Parse($"/ip4/10.{i}.1.1/tcp/1"));
                Assert.True(decision.IsAllowed || decision.Reason!.Length > 0);
                Assert.True(_gater.AllowAccept(Multiaddr.Parse($"/ip4/10.{i + 8}.1.1/tcp/1")).IsAllowed);
            }
        }));

        await Task.WhenAll(writers.Concat(readers));
        Assert.Empty(_gater.DeniedPeers);
        Assert.Empty(_gater.DeniedNetworks);
    }

    [Property]
    public void A_denied_IPv4_network_matches_exactly_the_addresses_sharing_its_prefix(uint network, uint address, byte prefix)
    {
        var length = prefix % 33;
        var mask = length == 0 ? 0u : uint.MaxValue << (32 - length);
        var gater = new ConnectionGater();
        gater.DenyAddress(new IPNetwork(ToIPv4(network & mask), length));

        var ip = ToIPv4(address);
        var decision = gater.AllowAccept(Multiaddr.Parse($"/ip4/{ip}/tcp/1"));
        var mapped = gater.AllowAccept(Multiaddr.Parse($"/ip6/{ip.MapToIPv6()}/tcp/1"));

        var inside = (address & mask) == (network & mask);
        Assert.Equal(!inside, decision.IsAllowed);
        Assert.Equal(!inside, mapped.IsAllowed);
    }

    private static IPAddress ToIPv4(uint value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);

    private static void AssertDenied(GateDecision decision, string reasonPart)
    {
        Assert.False(decision.IsAllowed);
        Assert.Contains(reasonPart, decision.Reason, StringComparison.Ordinal);
    }
}
