using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>What <see cref="RoutingTable.TryAdd"/> did with a peer.</summary>
public enum RoutingTableAddResult
{
    /// <summary>The peer is new in its bucket.</summary>
    Added,

    /// <summary>The peer was already in the table; its last-seen time was refreshed.</summary>
    Refreshed,

    /// <summary>The bucket is full: the peer waits in the bucket's replacement cache.</summary>
    Cached,

    /// <summary>Refused by a diversity limit (too many peers of its IP group).</summary>
    RefusedByDiversity,

    /// <summary>Refused: it is ourselves.</summary>
    RefusedSelf,
}

/// <summary>One routing table entry.</summary>
/// <param name="Peer">The peer.</param>
/// <param name="Key">Its keyspace point.</param>
/// <param name="IpGroup">Its /24 (IPv4) or /48 (IPv6) group, or null when not limited (loopback, private, none).</param>
/// <param name="LastSeen">When it last answered us or was added.</param>
public sealed record RoutingTableEntry(PeerId Peer, KadKey Key, string? IpGroup, DateTimeOffset LastSeen);

/// <summary>
/// The Kademlia routing table (libp2p/specs <c>kad-dht/README.md</c>, "Kademlia routing table"): buckets by the
/// length of the key prefix shared with us, k peers each, and a replacement cache of k more per bucket that refills a
/// bucket when one of its peers is evicted. Diversity limits keep one IP group from filling a bucket or the table.
/// Thread-safe; callers decide who may enter (DHT servers only) and when a peer is evicted (after a failed request).
/// </summary>
public sealed class RoutingTable
{
    private readonly KadKey _self;
    private readonly PeerId _selfPeer;
    private readonly KadOptions _options;
    private readonly Lock _lock = new();
    private readonly Bucket[] _buckets = new Bucket[KadKey.Bits + 1];
    private readonly Dictionary<PeerId, int> _bucketOf = [];

    /// <summary>An empty table centred on <paramref name="self"/>.</summary>
    public RoutingTable(PeerId self, KadOptions options)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(options);
        _selfPeer = self;
        _self = KadKey.FromPeerId(self);
        _options = options;
        for (var i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Bucket();
        }
    }

    /// <summary>Raised (outside the lock) when a peer enters a bucket, including promotion from a replacement cache.</summary>
    public event EventHandler<RoutingTableEntry>? PeerAdded;

    /// <summary>Raised (outside the lock) when a peer leaves a bucket.</summary>
    public event EventHandler<PeerId>? PeerRemoved;

    /// <summary>Peers in buckets (not counting replacement caches).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _bucketOf.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="peer"/> is in a bucket.</summary>
    public bool Contains(PeerId peer)
    {
        lock (_lock)
        {
            return _bucketOf.ContainsKey(peer);
        }
    }

    /// <summary>Every bucketed entry, by bucket index (closest buckets last).</summary>
    public IReadOnlyList<(int Bucket, RoutingTableEntry Entry)> Snapshot()
    {
        lock (_lock)
        {
            var entries = new List<(int, RoutingTableEntry)>();
            for (var i = 0; i < _buckets.Length; i++)
            {
                entries.AddRange(_buckets[i].Entries.Select(e => (i, e)));
            }

            return entries;
        }
    }

    /// <summary>
    /// Adds <paramref name="peer"/> (seen now at <paramref name="addresses"/>), refreshes it when present, or, with
    /// its bucket full, keeps it in the bucket's replacement cache.
    /// </summary>
    public RoutingTableAddResult TryAdd(PeerId peer, IReadOnlyList<Multiaddr> addresses, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(addresses);
        if (peer == _selfPeer)
        {
            return RoutingTableAddResult.RefusedSelf;
        }

        var key = KadKey.FromPeerId(peer);
        var index = Math.Min(_self.CommonPrefixLength(key), KadKey.Bits - 1);
        var entry = new RoutingTableEntry(peer, key, IpGroupOf(addresses), now);
        RoutingTableAddResult result;
        lock (_lock)
        {
            var bucket = _buckets[index];
            var existing = bucket.Entries.FindIndex(e => e.Peer == peer);
            if (existing >= 0)
            {
                bucket.Entries[existing] = bucket.Entries[existing] with { LastSeen = now };
                return RoutingTableAddResult.Refreshed;
            }

            if (!FitsDiversity(entry, bucket))
            {
                return RoutingTableAddResult.RefusedByDiversity;
            }

            if (bucket.Entries.Count >= _options.BucketSize)
            {
                bucket.Replacements.RemoveAll(e => e.Peer == peer);
                bucket.Replacements.Add(entry);
                if (bucket.Replacements.Count > _options.BucketSize)
                {
                    bucket.Replacements.RemoveAt(0);
                }

                return RoutingTableAddResult.Cached;
            }

            bucket.Entries.Add(entry);
            bucket.Replacements.RemoveAll(e => e.Peer == peer);
            _bucketOf[peer] = index;
            result = RoutingTableAddResult.Added;
        }

        PeerAdded?.Invoke(this, entry);
        return result;
    }

    /// <summary>Evicts <paramref name="peer"/> (it failed a request) and promotes the newest peer of that bucket's
    /// replacement cache that still fits the diversity limits.</summary>
    public bool Remove(PeerId peer)
    {
        RoutingTableEntry? promoted = null;
        lock (_lock)
        {
            if (!_bucketOf.Remove(peer, out var index))
            {
                return false;
            }

            var bucket = _buckets[index];
            bucket.Entries.RemoveAll(e => e.Peer == peer);
            for (var i = bucket.Replacements.Count - 1; i >= 0; i--)
            {
                var candidate = bucket.Replacements[i];
                bucket.Replacements.RemoveAt(i);
                if (FitsDiversity(candidate, bucket))
                {
                    bucket.Entries.Add(candidate);
                    _bucketOf[candidate.Peer] = index;
                    promoted = candidate;
                    break;
                }
            }
        }

        PeerRemoved?.Invoke(this, peer);
        if (promoted is not null)
        {
            PeerAdded?.Invoke(this, promoted);
        }

        return true;
    }

    /// <summary>Up to <paramref name="count"/> bucketed peers closest to <paramref name="target"/>, closest first.</summary>
    public IReadOnlyList<PeerId> NearestPeers(KadKey target, int count)
    {
        lock (_lock)
        {
            // Small tables (k * a few dozen buckets): sorting all is simpler than walking buckets outwards, and cheap.
            return [.. _buckets.SelectMany(b => b.Entries)
                .OrderBy(e => e.Key, Comparer<KadKey>.Create(target.CompareDistance))
                .Take(count)
                .Select(e => e.Peer)];
        }
    }

    /// <summary>Marks bucket <paramref name="index"/> as looked up now (a lookup for a key in it finished).</summary>
    public void MarkBucketRefreshed(KadKey target, DateTimeOffset now)
    {
        var index = Math.Min(_self.CommonPrefixLength(target), KadKey.Bits - 1);
        lock (_lock)
        {
            _buckets[index].LastRefreshed = now;
        }
    }

    /// <summary>The indexes of buckets up to the deepest non-empty one that were not looked up since
    /// <paramref name="staleBefore"/>: the ones a refresh looks up.</summary>
    public IReadOnlyList<int> StaleBuckets(DateTimeOffset staleBefore)
    {
        lock (_lock)
        {
            var deepest = Array.FindLastIndex(_buckets, b => b.Entries.Count > 0);
            return [.. Enumerable.Range(0, Math.Min(deepest + 1, 16)).Where(i => _buckets[i].LastRefreshed < staleBefore)];
        }
    }

    /// <summary>Our own keyspace point.</summary>
    public KadKey SelfKey => _self;

    private bool FitsDiversity(RoutingTableEntry entry, Bucket bucket) =>
        entry.IpGroup is null
        || (bucket.Entries.Count(e => e.IpGroup == entry.IpGroup) < _options.MaxPeersPerIpGroupPerBucket
            && _buckets.Sum(b => b.Entries.Count(e => e.IpGroup == entry.IpGroup)) < _options.MaxPeersPerIpGroupInTable);

    /// <summary>The diversity group of a peer: its first public IPv4 /24 or IPv6 /48, or null when it has none (or
    /// private ones and <see cref="KadOptions.LimitPrivateAddresses"/> is off).</summary>
    private string? IpGroupOf(IReadOnlyList<Multiaddr> addresses)
    {
        foreach (var address in addresses)
        {
            var components = address.Components;
            if (components.Length == 0 || (components[0].Protocol != MultiaddrProtocol.Ip4 && components[0].Protocol != MultiaddrProtocol.Ip6))
            {
                continue;
            }

            var ip = new IPAddress(components[0].Value.Span);
            if (!_options.LimitPrivateAddresses && IsPrivate(ip))
            {
                continue;
            }

            var bytes = ip.GetAddressBytes();
            return ip.AddressFamily == AddressFamily.InterNetwork
                ? $"4:{bytes[0]}.{bytes[1]}.{bytes[2]}"
                : $"6:{Convert.ToHexString(bytes, 0, 6)}";
        }

        return null;
    }

    private static bool IsPrivate(IPAddress ip)
    {
        if (IPAddress.IsLoopback(ip) || ip.IsIPv6LinkLocal || ip.IsIPv6UniqueLocal || ip.IsIPv6SiteLocal)
        {
            return true;
        }

        if (ip.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }

        var b = ip.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }

    private sealed class Bucket
    {
        public List<RoutingTableEntry> Entries { get; } = [];

        public List<RoutingTableEntry> Replacements { get; } = [];

        public DateTimeOffset LastRefreshed { get; set; } = DateTimeOffset.MinValue;
    }
}
