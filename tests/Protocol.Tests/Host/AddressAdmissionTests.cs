using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Host;

/// <summary>Per-address admission at accept: one address with many sockets cannot take the host off the network.
/// Every 127.x.y.z is local on loopback, so attackers bind 127.0.0.2 and up while the legitimate peer dials from
/// 127.0.0.1 (loopback is not exempt by default, <see cref="AddressLimits.ExemptLoopback"/>).</summary>
public class AddressAdmissionTests
{
    [Fact]
    public async Task Three_hundred_idle_sockets_from_one_address_do_not_lock_out_another_peer()
    {
        await using var server = await TestHosts.StartAsync();
        await using var client = await TestHosts.StartAsync();
        var endpoint = ListenEndPoint(server);

        var idle = await OpenIdleSocketsAsync(IPAddress.Parse("127.0.0.2"), endpoint, 300);
        try
        {
            // Wait until the accept loop has seen them all: whatever the limits, at least 300 - 256 are refused.
            await WaitUntilAsync(() => server.Counters.Snapshot().Values.Sum() >= 44, "the idle sockets to be accepted or refused");

            var connection = await client.ConnectAsync(TestHosts.DialAddress(server));
            Assert.Equal(server.PeerId, connection.RemotePeer);
            Assert.True(server.Counters[Refusal.AddressPendingUpgradeLimit, ResourceScope.Ip] >= 300 - AddressLimits.Default.PerIp.PendingUpgrades);
            Assert.Equal(0, server.Counters[Refusal.PendingUpgradeLimit]);
        }
        finally
        {
            foreach (var socket in idle)
            {
                socket.Dispose();
            }
        }
    }

    private static readonly AddressLimits Small = new()
    {
        PerIp = new() { PendingUpgrades = 2, InboundConnections = 3, ConnectionsPerSecond = 1, ConnectionBurst = 5 },
        PerSubnet = new() { PendingUpgrades = 3, InboundConnections = 4, ConnectionsPerSecond = 2, ConnectionBurst = 6 },
    };

    [Fact]
    public void An_address_over_its_pending_share_is_refused_and_its_neighbours_share_the_subnet()
    {
        var admission = new AddressAdmission(Small, new ManualTimeProvider());
        var a = Admit(admission, "/ip4/10.0.0.1/tcp/1");
        var b = Admit(admission, "/ip4/10.0.0.1/tcp/2");
        AssertRefused(admission, "/ip4/10.0.0.1/tcp/3", Refusal.AddressPendingUpgradeLimit, ResourceScope.Ip);

        // A neighbour in the same /24 gets the subnet's last pending slot, then the subnet is full for everyone.
        var c = Admit(admission, "/ip4/10.0.0.2/tcp/1");
        AssertRefused(admission, "/ip4/10.0.0.3/tcp/1", Refusal.AddressPendingUpgradeLimit, ResourceScope.Subnet);

        // Another subnet is not affected; the IPv4-mapped IPv6 form is the same address.
        Admit(admission, "/ip4/10.0.1.1/tcp/1");
        AssertRefused(admission, "/ip6/::ffff:10.0.0.1/tcp/1", Refusal.AddressPendingUpgradeLimit, ResourceScope.Ip);

        a.Release();
        a.Release(); // idempotent
        Admit(admission, "/ip4/10.0.0.1/tcp/4");
        b.Upgraded();
        c.Upgraded();
    }

    [Fact]
    public void Open_connections_count_until_they_close_and_pending_ones_count_towards_them()
    {
        var admission = new AddressAdmission(Small with { PerSubnet = Small.PerSubnet with { PendingUpgrades = 10, InboundConnections = 10 } }, new ManualTimeProvider());
        var first = Admit(admission, "/ip4/10.0.0.1/tcp/1");
        first.Upgraded();
        var second = Admit(admission, "/ip4/10.0.0.1/tcp/1");
        second.Upgraded();
        var pending = Admit(admission, "/ip4/10.0.0.1/tcp/1");

        // Two connections and one handshake fill the three connections an address may have.
        AssertRefused(admission, "/ip4/10.0.0.1/tcp/1", Refusal.AddressConnectionLimit, ResourceScope.Ip);
        pending.Release();
        var third = Admit(admission, "/ip4/10.0.0.1/tcp/1");
        third.Upgraded();
        first.Upgraded(); // a second upgrade changes nothing
        AssertRefused(admission, "/ip4/10.0.0.1/tcp/1", Refusal.AddressConnectionLimit, ResourceScope.Ip);
        second.Release();
        Admit(admission, "/ip4/10.0.0.1/tcp/1").Release();
    }

    [Fact]
    public void The_connection_rate_is_a_token_bucket_per_scope_and_idle_scopes_are_forgotten()
    {
        var clock = new ManualTimeProvider();
        var limits = Small with
        {
            PerIp = Small.PerIp with { PendingUpgrades = 100, InboundConnections = 100 },
            PerSubnet = Small.PerSubnet with { PendingUpgrades = 100, InboundConnections = 100 },
        };
        var admission = new AddressAdmission(limits, clock);
        for (var i = 0; i < limits.PerIp.ConnectionBurst; i++)
        {
            Admit(admission, "/ip4/10.0.0.1/tcp/1").Release();
        }

        AssertRefused(admission, "/ip4/10.0.0.1/tcp/1", Refusal.AddressRateLimit, ResourceScope.Ip);
        Admit(admission, "/ip4/10.0.0.2/tcp/1").Release(); // the subnet's bucket (6) still has one
        AssertRefused(admission, "/ip4/10.0.0.3/tcp/1", Refusal.AddressRateLimit, ResourceScope.Subnet);

        clock.Advance(TimeSpan.FromSeconds(1)); // one token per second for the address, two for the subnet
        Admit(admission, "/ip4/10.0.0.1/tcp/1").Release();
        AssertRefused(admission, "/ip4/10.0.0.1/tcp/1", Refusal.AddressRateLimit, ResourceScope.Ip);
        Assert.True(admission.TrackedScopes > 0);

        // Once their buckets have refilled, nothing is kept about the other addresses: only the one just admitted
        // (its bucket is one short) and its subnet are.
        clock.Advance(TimeSpan.FromSeconds(10));
        Admit(admission, "/ip4/10.0.0.1/tcp/1").Release();
        Assert.Equal(2, admission.TrackedScopes);
        clock.Advance(TimeSpan.FromSeconds(10)); // scopes are swept at most every 10 s
        Admit(admission, "/ip4/10.9.0.1/tcp/1").Release();
        Assert.Equal(2, admission.TrackedScopes);
    }

    [Fact]
    public void Exempt_networks_and_loopback_on_request_are_not_limited_and_relayed_or_ip_less_addresses_are_not_tracked()
    {
        var limits = Small with { ExemptNetworks = [IPNetwork.Parse("192.168.0.0/16")] };
        var admission = new AddressAdmission(limits, new ManualTimeProvider());
        for (var i = 0; i < 20; i++)
        {
            Admit(admission, "/ip4/192.168.1.1/tcp/1");
            Admit(admission, "/ip6/::ffff:192.168.1.1/tcp/1");
            Admit(admission, "/memory/7");
            Admit(admission, "/ip4/10.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit");
        }

        Assert.Equal(0, admission.TrackedScopes);
        Admit(admission, "/ip4/127.0.0.2/tcp/1");
        Admit(admission, "/ip4/127.0.0.2/tcp/1");
        AssertRefused(admission, "/ip4/127.0.0.2/tcp/1", Refusal.AddressPendingUpgradeLimit, ResourceScope.Ip);

        var loopbackExempt = new AddressAdmission(Small with { ExemptLoopback = true }, new ManualTimeProvider());
        for (var i = 0; i < 20; i++)
        {
            Admit(loopbackExempt, "/ip4/127.0.0.2/tcp/1");
            Admit(loopbackExempt, "/ip6/::1/tcp/1");
        }
    }

    [Fact]
    public void IPv6_addresses_share_their_56_bit_subnet()
    {
        var admission = new AddressAdmission(Small, new ManualTimeProvider());
        Admit(admission, "/ip6/2001:db8:0:100::1/tcp/1");
        Admit(admission, "/ip6/2001:db8:0:1ff::2/tcp/1");
        Admit(admission, "/ip6/2001:db8:0:150::3/tcp/1");
        AssertRefused(admission, "/ip6/2001:db8:0:1ab::4/tcp/1", Refusal.AddressPendingUpgradeLimit, ResourceScope.Subnet);
        Admit(admission, "/ip6/2001:db8:0:200::1/tcp/1");
    }

    private static AddressTicket Admit(AddressAdmission admission, string address)
    {
        Assert.True(admission.TryAdmit(Multiaddr.Parse(address), out var ticket, out var refusal), $"{address} refused: {refusal}");
        return ticket;
    }

    private static void AssertRefused(AddressAdmission admission, string address, Refusal expected, ResourceScope scope)
    {
        Assert.False(admission.TryAdmit(Multiaddr.Parse(address), out _, out var refusal), $"{address} admitted");
        Assert.Equal((expected, scope), (refusal.Refusal, refusal.Scope));
    }

    internal static IPEndPoint ListenEndPoint(Libp2pHost host)
    {
        var address = host.ListenAddresses[0];
        Assert.True(address.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endpoint, out _));
        return endpoint;
    }

    internal static async Task<List<Socket>> OpenIdleSocketsAsync(IPAddress source, IPEndPoint target, int count)
    {
        var sockets = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(socket);
            socket.Bind(new IPEndPoint(source, 0));
            try
            {
                await socket.ConnectAsync(target);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The host refused this one at accept, faster than the connect completed here.
            }
        }

        return sockets;
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(20);
        }
    }
}
