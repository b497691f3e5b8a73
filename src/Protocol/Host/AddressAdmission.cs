using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Host;

/// <summary>
/// Enforces <see cref="AddressLimits"/> at accept: per remote IP address and per subnet, the inbound handshakes in
/// progress, the inbound connections open, and a token bucket of new connections. The accept loop asks
/// <see cref="TryAdmit"/> before it reads a byte; the <see cref="AddressTicket"/> it gets follows the connection
/// through its upgrade to its close. Thread-safe. Memory is bounded by what is admitted: a scope's entry is dropped as
/// soon as it holds nothing and its bucket has refilled, so refused addresses leave nothing behind.
/// </summary>
internal sealed class AddressAdmission
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);
    private readonly AddressLimits _limits;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private readonly Dictionary<IPNetwork, Tally> _ips = [];
    private readonly Dictionary<IPNetwork, Tally> _subnets = [];
    private long _lastSweep;

    public AddressAdmission(AddressLimits limits, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        _limits = limits;
        _time = time;
        _lastSweep = time.GetTimestamp();
    }

    /// <summary>The IP addresses and subnets with something admitted or a bucket still refilling.</summary>
    public int TrackedScopes
    {
        get
        {
            lock (_sync)
            {
                return _ips.Count + _subnets.Count;
            }
        }
    }

    /// <summary>
    /// Admits an inbound connection from <paramref name="remoteAddress"/> as a pending upgrade, or says which limit of
    /// which scope it is over. An address without an IP (<c>/memory/…</c>), a relayed one, or one in an exempt network
    /// is always admitted and not tracked.
    /// </summary>
    public bool TryAdmit(Multiaddr remoteAddress, out AddressTicket ticket, out AddressRefusal refusal)
    {
        refusal = default;
        if (RemoteIp(remoteAddress) is not { } ip || IsExempt(ip))
        {
            ticket = AddressTicket.Untracked;
            return true;
        }

        var ipKey = new IPNetwork(ip, ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        var subnetKey = SubnetOf(ip);
        var now = _time.GetTimestamp();
        lock (_sync)
        {
            SweepIfDue(now);
            var ipTally = GetOrAdd(_ips, ipKey, _limits.PerIp, now);
            var subnetTally = GetOrAdd(_subnets, subnetKey, _limits.PerSubnet, now);
            ipTally.Refill(_limits.PerIp, _time, now);
            subnetTally.Refill(_limits.PerSubnet, _time, now);
            if (Check(ipTally, _limits.PerIp, ResourceScope.Ip, ip.ToString(), out refusal)
                && Check(subnetTally, _limits.PerSubnet, ResourceScope.Subnet, subnetKey.ToString(), out refusal))
            {
                ipTally.Admit();
                subnetTally.Admit();
                ticket = new AddressTicket(this, ipKey, subnetKey);
                return true;
            }

            // A scope that was only created for this refusal holds nothing: do not keep it.
            DropIfIdle(_ips, ipKey, ipTally, _limits.PerIp, now);
            DropIfIdle(_subnets, subnetKey, subnetTally, _limits.PerSubnet, now);
        }

        ticket = AddressTicket.Untracked;
        return false;
    }

    private static bool Check(Tally tally, AddressScopeLimits limits, ResourceScope scope, string name, out AddressRefusal refusal)
    {
        if (tally.Pending >= limits.PendingUpgrades)
        {
            refusal = new AddressRefusal(Refusal.AddressPendingUpgradeLimit, scope, $"{name} has {tally.Pending} handshakes in progress (limit {limits.PendingUpgrades})");
            return false;
        }

        // Handshakes in progress count too: each may become a connection.
        if (tally.Connections + tally.Pending >= limits.InboundConnections)
        {
            refusal = new AddressRefusal(Refusal.AddressConnectionLimit, scope, $"{name} has {tally.Connections} connections and {tally.Pending} handshakes (limit {limits.InboundConnections})");
            return false;
        }

        if (tally.Tokens < 1)
        {
            refusal = new AddressRefusal(Refusal.AddressRateLimit, scope, $"{name} opens connections faster than {limits.ConnectionsPerSecond}/s (burst {limits.ConnectionBurst})");
            return false;
        }

        refusal = default;
        return true;
    }

    private static IPAddress? RemoteIp(Multiaddr address)
    {
        // A relayed address starts with the relay's IP, which all its relayed peers share: the relay's reservation
        // limits those, not the relay's share here.
        if (address.Components.Length == 0 || address.IsRelayed)
        {
            return null;
        }

        var first = address.Components[0];
        if (first.Protocol != MultiaddrProtocol.Ip4 && first.Protocol != MultiaddrProtocol.Ip6)
        {
            return null;
        }

        var ip = new IPAddress(first.Value.Span);
        return ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;
    }

    private static Tally GetOrAdd(Dictionary<IPNetwork, Tally> tallies, IPNetwork key, AddressScopeLimits limits, long now)
    {
        if (!tallies.TryGetValue(key, out var tally))
        {
            tally = new Tally(limits.ConnectionBurst, now);
            tallies[key] = tally;
        }

        return tally;
    }

    private bool IsExempt(IPAddress ip)
    {
        if (_limits.ExemptLoopback && IPAddress.IsLoopback(ip))
        {
            return true;
        }

        foreach (var network in _limits.ExemptNetworks)
        {
            if (network.Contains(ip) || (ip.AddressFamily == AddressFamily.InterNetwork && network.Contains(ip.MapToIPv6())))
            {
                return true;
            }
        }

        return false;
    }

    private IPNetwork SubnetOf(IPAddress ip)
    {
        var prefix = ip.AddressFamily == AddressFamily.InterNetwork ? _limits.Ipv4SubnetPrefixLength : _limits.Ipv6SubnetPrefixLength;
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var bit = prefix; bit < length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        return new IPNetwork(new IPAddress(bytes), prefix);
    }

    internal void Release(IPNetwork ipKey, IPNetwork subnetKey, bool pending, bool connection)
    {
        var now = _time.GetTimestamp();
        lock (_sync)
        {
            Release(_ips, ipKey, _limits.PerIp, pending, connection, now);
            Release(_subnets, subnetKey, _limits.PerSubnet, pending, connection, now);
        }
    }

    internal void Upgraded(IPNetwork ipKey, IPNetwork subnetKey)
    {
        lock (_sync)
        {
            _ips[ipKey].Upgraded();
            _subnets[subnetKey].Upgraded();
        }
    }

    private void Release(Dictionary<IPNetwork, Tally> tallies, IPNetwork key, AddressScopeLimits limits, bool pending, bool connection, long now)
    {
        var tally = tallies[key];
        tally.Release(pending, connection);
        tally.Refill(limits, _time, now);
        DropIfIdle(tallies, key, tally, limits, now);
    }

    private void DropIfIdle(Dictionary<IPNetwork, Tally> tallies, IPNetwork key, Tally tally, AddressScopeLimits limits, long now)
    {
        tally.Refill(limits, _time, now);
        if (tally.IsIdle(limits))
        {
            tallies.Remove(key);
        }
    }

    /// <summary>Drops scopes whose buckets refilled since they last held something (callers hold the lock).</summary>
    private void SweepIfDue(long now)
    {
        if (_time.GetElapsedTime(_lastSweep, now) < SweepInterval)
        {
            return;
        }

        _lastSweep = now;
        Sweep(_ips, _limits.PerIp, now);
        Sweep(_subnets, _limits.PerSubnet, now);
    }

    private void Sweep(Dictionary<IPNetwork, Tally> tallies, AddressScopeLimits limits, long now)
    {
        foreach (var (key, tally) in tallies)
        {
            tally.Refill(limits, _time, now);
            if (tally.IsIdle(limits))
            {
                tallies.Remove(key);
            }
        }
    }

    /// <summary>What one scope holds; guarded by the admission's lock.</summary>
    private sealed class Tally(double tokens, long refilled)
    {
        public int Pending { get; private set; }

        public int Connections { get; private set; }

        public double Tokens { get; private set; } = tokens;

        public void Refill(AddressScopeLimits limits, TimeProvider time, long now)
        {
            if (now > refilled)
            {
                Tokens = Math.Min(limits.ConnectionBurst, Tokens + (time.GetElapsedTime(refilled, now).TotalSeconds * limits.ConnectionsPerSecond));
                refilled = now;
            }
        }

        public void Admit()
        {
            Tokens--;
            Pending++;
        }

        public void Upgraded()
        {
            Pending--;
            Connections++;
        }

        public void Release(bool pending, bool connection)
        {
            if (pending)
            {
                Pending--;
            }

            if (connection)
            {
                Connections--;
            }

            Debug.Assert(Pending >= 0 && Connections >= 0, "released more than was admitted");
        }

        public bool IsIdle(AddressScopeLimits limits) => Pending == 0 && Connections == 0 && Tokens >= limits.ConnectionBurst;
    }
}

/// <summary>Why <see cref="AddressAdmission.TryAdmit"/> refused a connection: the limit and the scope that was full.</summary>
internal readonly record struct AddressRefusal(Refusal Refusal, ResourceScope Scope, string Reason);

/// <summary>What an admitted inbound connection holds of its address's share: a pending upgrade until
/// <see cref="Upgraded"/>, then a connection until <see cref="Release"/>. Thread-safe; each step happens once
/// (a release after a release, or an upgrade after a release, does nothing).</summary>
internal sealed class AddressTicket
{
    private const int Pending = 0;
    private const int Connected = 1;
    private const int Released = 2;
    private readonly AddressAdmission? _admission;
    private readonly IPNetwork _ip;
    private readonly IPNetwork _subnet;
    private int _state;

    internal AddressTicket(AddressAdmission admission, IPNetwork ip, IPNetwork subnet)
    {
        _admission = admission;
        _ip = ip;
        _subnet = subnet;
    }

    private AddressTicket()
    {
    }

    /// <summary>A ticket that holds nothing (exempt or IP-less addresses).</summary>
    public static AddressTicket Untracked { get; } = new();

    /// <summary>The handshake finished and the connection was registered.</summary>
    public void Upgraded()
    {
        if (_admission is not null && Interlocked.CompareExchange(ref _state, Connected, Pending) == Pending)
        {
            _admission.Upgraded(_ip, _subnet);
        }
    }

    /// <summary>The handshake failed or the connection closed.</summary>
    public void Release()
    {
        if (_admission is null)
        {
            return;
        }

        var previous = Interlocked.Exchange(ref _state, Released);
        if (previous != Released)
        {
            _admission.Release(_ip, _subnet, pending: previous == Pending, connection: previous == Connected);
        }
    }
}
