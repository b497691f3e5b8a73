using System.Collections.Concurrent;
using System.Collections.Immutable;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;

namespace ToolNet.Protocol.Peers;

/// <summary>
/// The in-memory <see cref="IPeerStore"/>: addresses with expiry, keys, protocols, latency, metadata and signed peer
/// records, bounded in every dimension (<see cref="PeerStoreOptions"/>). Thread-safe.
/// </summary>
/// <remarks>
/// <para>Concurrency: a <see cref="ConcurrentDictionary{TKey, TValue}"/> maps each peer to a small record guarded by
/// its own lock. An operation on one peer takes only that peer's lock, so work on different peers never contends and
/// each operation sees and leaves a record consistent. Eviction and <see cref="Prune"/> visit records one at a time.
/// A record leaving the map is flagged under its lock; a writer that finds the flag retries with a fresh record, so no
/// write lands in a record that is no longer reachable.</para>
/// <para>Time comes from the injected <see cref="TimeProvider"/>. An address is visible while its expiry is later
/// than now; reads skip expired addresses (and <see cref="GetAddresses"/> drops them), <see cref="Prune"/> drops them
/// everywhere and forgets peers left without addresses, a stored key or a connection.</para>
/// <para>Bounds: at most <see cref="PeerStoreOptions.MaxPeers"/> peers. When a new peer would exceed it, unconnected
/// peers are evicted, those without live addresses first and then the least recently updated, down to a little under
/// the bound so that eviction (a scan of all peers) is amortised. Connected peers (<see cref="MarkConnected"/>) are
/// never evicted; if nothing else can go, a write about a new, unconnected peer is dropped, while
/// <see cref="MarkConnected"/> always records the peer (the host's connection limits bound those). Per peer, at most
/// <see cref="PeerStoreOptions.MaxAddressesPerPeer"/> addresses, keeping the longest-lived (of equals, the earlier
/// known); protocol ids and metadata are bounded too.</para>
/// </remarks>
public sealed class PeerStore : IPeerStore
{
    private readonly ConcurrentDictionary<PeerId, Entry> _peers = new();
    private readonly Lock _evictionLock = new();
    private readonly TimeProvider _time;
    private readonly PeerStoreOptions _options;
    private int _count;

    /// <summary>A store reading time from <paramref name="timeProvider"/> (the system clock by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PeerStore(TimeProvider? timeProvider = null, PeerStoreOptions? options = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _options = options ?? PeerStoreOptions.Default;
        _options.Validate();
    }

    /// <summary>How many peers the store holds, listed in <see cref="Peers"/> or not (for example a peer known only
    /// by its protocols, or whose addresses expired and that <see cref="Prune"/> has not yet dropped).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc/>
    public IReadOnlyList<PeerId> Peers
    {
        get
        {
            var now = Now;
            var peers = new List<PeerId>();
            foreach (var (peer, entry) in _peers)
            {
                lock (entry.Sync)
                {
                    if (!entry.Removed && entry.IsListed(now))
                    {
                        peers.Add(peer);
                    }
                }
            }

            return peers;
        }
    }

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is negative.</exception>
    public void AddAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
        var accepted = Normalize(peer, addresses);
        if (accepted.Count == 0 || ttl == TimeSpan.Zero)
        {
            return;
        }

        var now = Now;
        using var locked = Acquire(peer, create: true);
        if (locked.Entry is { } entry)
        {
            entry.RemoveExpired(now);
            entry.MergeAddresses(accepted, ExpiryOf(now, ttl), ttl, _options.MaxAddressesPerPeer);
            entry.Updated = now;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is negative.</exception>
    public void SetAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
        var accepted = ttl == TimeSpan.Zero ? [] : Normalize(peer, addresses);
        var now = Now;
        using var locked = Acquire(peer, create: accepted.Count > 0);
        if (locked.Entry is { } entry)
        {
            entry.Addresses.Clear();
            entry.MergeAddresses(accepted, ExpiryOf(now, ttl), ttl, _options.MaxAddressesPerPeer);
            entry.Updated = now;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<Multiaddr> GetAddresses(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var now = Now;
        using var locked = Acquire(peer, create: false);
        if (locked.Entry is not { } entry)
        {
            return [];
        }

        entry.RemoveExpired(now);
        return entry.Addresses.ConvertAll(static stored => stored.Address);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="key"/> is not the key of <paramref name="peer"/>.</exception>
    public void AddPublicKey(PeerId peer, PublicKey key)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(key);
        if (!peer.Matches(key))
        {
            throw new ArgumentException($"the {key.KeyType} key is not the key of peer {peer}", nameof(key));
        }

        using var locked = Acquire(peer, create: true);
        if (locked.Entry is { } entry)
        {
            entry.Key = key;
            entry.Updated = Now;
        }
    }

    /// <inheritdoc/>
    public PublicKey? GetPublicKey(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        using (var locked = Acquire(peer, create: false))
        {
            if (locked.Entry?.Key is { } key)
            {
                return key;
            }
        }

        return peer.TryExtractPublicKey(out var inline) ? inline : null;
    }

    /// <inheritdoc/>
    /// <remarks>Empty, duplicate and over-long (<see cref="PeerStoreOptions.MaxProtocolLength"/>) ids are dropped, and
    /// only the first <see cref="PeerStoreOptions.MaxProtocolsPerPeer"/> of the rest kept, in order.</remarks>
    public void SetProtocols(PeerId peer, IEnumerable<string> protocols)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(protocols);
        var kept = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var protocol in protocols)
        {
            if (kept.Count == _options.MaxProtocolsPerPeer)
            {
                break;
            }

            if (!string.IsNullOrEmpty(protocol) && protocol.Length <= _options.MaxProtocolLength && seen.Add(protocol))
            {
                kept.Add(protocol);
            }
        }

        using var locked = Acquire(peer, create: kept.Count > 0);
        if (locked.Entry is { } entry)
        {
            entry.Protocols = kept.DrainToImmutable();
            entry.Updated = Now;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> GetProtocols(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        using var locked = Acquire(peer, create: false);
        return locked.Entry is { } entry ? entry.Protocols : ImmutableArray<string>.Empty;
    }

    /// <inheritdoc/>
    /// <remarks>An exponentially weighted moving average with weight <see cref="PeerStoreOptions.LatencySmoothing"/>.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="roundTrip"/> is negative.</exception>
    public void RecordLatency(PeerId peer, TimeSpan roundTrip)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentOutOfRangeException.ThrowIfLessThan(roundTrip, TimeSpan.Zero);
        using var locked = Acquire(peer, create: true);
        if (locked.Entry is { } entry)
        {
            double sample = roundTrip.Ticks;
            entry.LatencyTicks = entry.LatencyTicks is { } average
                ? average + (_options.LatencySmoothing * (sample - average))
                : sample;
            entry.Updated = Now;
        }
    }

    /// <inheritdoc/>
    public TimeSpan? GetLatency(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        using var locked = Acquire(peer, create: false);
        if (locked.Entry?.LatencyTicks is not { } ticks)
        {
            return null;
        }

        return ticks >= TimeSpan.MaxValue.Ticks ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)Math.Round(ticks));
    }

    /// <inheritdoc/>
    /// <remarks>Values usually come from the remote (identify's agent version), so one longer than
    /// <see cref="PeerStoreOptions.MaxMetadataValueLength"/> is cut to it. Keys are chosen by our own code, so a bad
    /// key is a bug and throws.</remarks>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or longer than
    /// <see cref="PeerStoreOptions.MaxMetadataKeyLength"/>, or is a new key for a peer that already has
    /// <see cref="PeerStoreOptions.MaxMetadataEntriesPerPeer"/>.</exception>
    public void SetMetadata(PeerId peer, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length > _options.MaxMetadataKeyLength)
        {
            throw new ArgumentException($"metadata key of {key.Length} characters exceeds {_options.MaxMetadataKeyLength}", nameof(key));
        }

        value = Truncate(value, _options.MaxMetadataValueLength);
        using var locked = Acquire(peer, create: true);
        if (locked.Entry is { } entry)
        {
            entry.Metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);
            if (entry.Metadata.Count >= _options.MaxMetadataEntriesPerPeer && !entry.Metadata.ContainsKey(key))
            {
                throw new ArgumentException($"peer {peer} already has {entry.Metadata.Count} metadata keys", nameof(key));
            }

            entry.Metadata[key] = value;
            entry.Updated = Now;
        }
    }

    /// <inheritdoc/>
    public string? GetMetadata(PeerId peer, string key)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(key);
        using var locked = Acquire(peer, create: false);
        return locked.Entry?.Metadata?.GetValueOrDefault(key);
    }

    /// <inheritdoc/>
    /// <remarks>The highest accepted sequence number is remembered as long as the peer is (even after the record's TTL
    /// ends), so a replayed older record is refused. An envelope larger than
    /// <see cref="PeerStoreOptions.MaxPeerRecordLength"/> is refused. The envelope is copied.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="envelope"/> is empty.</exception>
    public bool ConsumePeerRecord(PeerId peer, ulong seq, IReadOnlyList<Multiaddr> addresses, ReadOnlyMemory<byte> envelope, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        if (envelope.IsEmpty)
        {
            throw new ArgumentException("a signed peer record envelope is never empty", nameof(envelope));
        }

        if (envelope.Length > _options.MaxPeerRecordLength)
        {
            return false;
        }

        var accepted = Normalize(peer, addresses);
        var now = Now;
        using var locked = Acquire(peer, create: true);
        if (locked.Entry is not { } entry || (entry.RecordSeq is { } stored && seq <= stored))
        {
            return false;
        }

        var expires = ExpiryOf(now, ttl);
        entry.RecordSeq = seq;
        entry.RecordEnvelope = envelope.ToArray();
        entry.RecordExpires = expires;
        entry.Addresses.Clear();
        entry.MergeAddresses(accepted, expires, ttl, _options.MaxAddressesPerPeer);
        entry.Updated = now;
        return true;
    }

    /// <inheritdoc/>
    public ReadOnlyMemory<byte>? GetPeerRecordEnvelope(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var now = Now;
        using var locked = Acquire(peer, create: false);
        return locked.Entry is { RecordEnvelope: { } envelope } entry && entry.RecordExpires > now
            ? envelope
            : default(ReadOnlyMemory<byte>?);
    }

    /// <inheritdoc/>
    public void MarkConnected(PeerId peer, bool connected)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var now = Now;
        using var locked = Acquire(peer, create: connected, connected: connected);
        if (locked.Entry is not { } entry)
        {
            return;
        }

        entry.Connected = connected;
        if (!connected)
        {
            entry.ChangeTtl(PeerStoreTtl.ConnectedAddress, PeerStoreTtl.RecentlyConnected, now);
        }

        entry.Updated = now;
    }

    /// <inheritdoc/>
    public void RemovePeer(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_peers.TryGetValue(peer, out var entry))
        {
            lock (entry.Sync)
            {
                Remove(peer, entry);
            }
        }
    }

    /// <inheritdoc/>
    public void Prune()
    {
        var now = Now;
        foreach (var (peer, entry) in _peers)
        {
            lock (entry.Sync)
            {
                if (entry.Removed)
                {
                    continue;
                }

                entry.RemoveExpired(now);
                if (!entry.Connected && !entry.IsListed(now))
                {
                    Remove(peer, entry);
                }
            }
        }
    }

    private static DateTimeOffset ExpiryOf(DateTimeOffset now, TimeSpan ttl) =>
        ttl >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now + ttl;

    private static string Truncate(string value, int maxLength)
    {
        if (value.Length <= maxLength)
        {
            return value;
        }

        // Do not split a surrogate pair.
        var length = maxLength > 0 && char.IsHighSurrogate(value[maxLength - 1]) ? maxLength - 1 : maxLength;
        return value[..length];
    }

    /// <summary>The distinct addresses of <paramref name="peer"/> in <paramref name="addresses"/>, without their
    /// trailing <c>/p2p</c>, at most as many as a peer may keep (in one call they all share one expiry, so later ones
    /// could never displace earlier ones).</summary>
    private List<Multiaddr> Normalize(PeerId peer, IEnumerable<Multiaddr> addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        var accepted = new List<Multiaddr>();
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            var stripped = address;
            if (address.TryGetPeerId(out var named))
            {
                if (named != peer)
                {
                    continue;
                }

                stripped = address.WithoutPeerId();
            }

            if (!stripped.IsEmpty && !accepted.Contains(stripped))
            {
                accepted.Add(stripped);
                if (accepted.Count == _options.MaxAddressesPerPeer)
                {
                    break;
                }
            }
        }

        return accepted;
    }

    /// <summary>The locked, live record of <paramref name="peer"/>; a record is created when <paramref name="create"/>
    /// is set and there is room (always, for a <paramref name="connected"/> peer). Dispose to release the lock.</summary>
    private LockedEntry Acquire(PeerId peer, bool create, bool connected = false)
    {
        while (true)
        {
            if (!_peers.TryGetValue(peer, out var entry))
            {
                if (!create)
                {
                    return default;
                }

                entry = GetOrAddEntry(peer, connected);
                if (entry is null)
                {
                    return default;
                }
            }

            entry.Sync.Enter();
            if (!entry.Removed)
            {
                return new LockedEntry(entry);
            }

            entry.Sync.Exit();
        }
    }

    private Entry? GetOrAddEntry(PeerId peer, bool connected)
    {
        if (!TryReserveSlot(connected))
        {
            return null;
        }

        var created = new Entry(Now);
        var entry = _peers.GetOrAdd(peer, created);
        if (!ReferenceEquals(entry, created))
        {
            Interlocked.Decrement(ref _count);
        }

        return entry;
    }

    /// <summary>Counts a new peer in, evicting once if the store is full. Compare-and-swap keeps the count from ever
    /// passing the bound, except for connected peers (<paramref name="beyondBound"/>).</summary>
    private bool TryReserveSlot(bool beyondBound)
    {
        if (beyondBound)
        {
            Interlocked.Increment(ref _count);
            return true;
        }

        var evicted = false;
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (count < _options.MaxPeers)
            {
                if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
                {
                    return true;
                }
            }
            else if (evicted)
            {
                return false;
            }
            else
            {
                Evict();
                evicted = true;
            }
        }
    }

    /// <summary>Evicts unconnected peers down to a little under the bound: those without live addresses first, then
    /// the least recently updated. The order is taken from a snapshot, so it is approximate under concurrent writes.</summary>
    private void Evict()
    {
        lock (_evictionLock)
        {
            var excess = Volatile.Read(ref _count) - (_options.MaxPeers - Math.Max(1, _options.MaxPeers / 64));
            if (excess <= 0)
            {
                return;
            }

            var now = Now;
            var candidates = new List<(PeerId Peer, Entry Entry, bool HasAddresses, DateTimeOffset Updated)>();
            foreach (var (peer, entry) in _peers)
            {
                lock (entry.Sync)
                {
                    if (!entry.Removed && !entry.Connected)
                    {
                        candidates.Add((peer, entry, entry.HasLiveAddresses(now), entry.Updated));
                    }
                }
            }

            candidates.Sort(static (a, b) => a.HasAddresses == b.HasAddresses
                ? a.Updated.CompareTo(b.Updated)
                : a.HasAddresses.CompareTo(b.HasAddresses));
            foreach (var candidate in candidates)
            {
                if (excess == 0)
                {
                    break;
                }

                lock (candidate.Entry.Sync)
                {
                    if (!candidate.Entry.Removed && !candidate.Entry.Connected)
                    {
                        Remove(candidate.Peer, candidate.Entry);
                        excess--;
                    }
                }
            }
        }
    }

    /// <summary>Takes <paramref name="entry"/> out of the map; the caller holds its lock.</summary>
    private void Remove(PeerId peer, Entry entry)
    {
        if (entry.Removed)
        {
            return;
        }

        entry.Removed = true;
        if (_peers.TryRemove(new KeyValuePair<PeerId, Entry>(peer, entry)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>An address with its expiry and the TTL it was last given.</summary>
    private readonly record struct StoredAddress(Multiaddr Address, DateTimeOffset Expires, TimeSpan Ttl);

    /// <summary>Everything known about one peer; every member is guarded by <see cref="Sync"/>.</summary>
    private sealed class Entry(DateTimeOffset created)
    {
        public Lock Sync { get; } = new();

        public bool Removed { get; set; }

        public bool Connected { get; set; }

        public DateTimeOffset Updated { get; set; } = created;

        public List<StoredAddress> Addresses { get; } = [];

        public PublicKey? Key { get; set; }

        public ImmutableArray<string> Protocols { get; set; } = [];

        public double? LatencyTicks { get; set; }

        public Dictionary<string, string>? Metadata { get; set; }

        public ulong? RecordSeq { get; set; }

        public byte[]? RecordEnvelope { get; set; }

        public DateTimeOffset RecordExpires { get; set; }

        public bool HasLiveAddresses(DateTimeOffset now)
        {
            foreach (var stored in Addresses)
            {
                if (stored.Expires > now)
                {
                    return true;
                }
            }

            return false;
        }

        public bool IsListed(DateTimeOffset now) => Key is not null || HasLiveAddresses(now);

        public void RemoveExpired(DateTimeOffset now)
        {
            Addresses.RemoveAll(stored => stored.Expires <= now);
            if (RecordEnvelope is not null && RecordExpires <= now)
            {
                RecordEnvelope = null;
            }
        }

        /// <summary>Adds new addresses and extends known ones (never shortening), then keeps the
        /// <paramref name="max"/> longest-lived, in their original order.</summary>
        public void MergeAddresses(List<Multiaddr> addresses, DateTimeOffset expires, TimeSpan ttl, int max)
        {
            foreach (var address in addresses)
            {
                var index = Addresses.FindIndex(stored => stored.Address == address);
                if (index < 0)
                {
                    Addresses.Add(new StoredAddress(address, expires, ttl));
                }
                else if (expires > Addresses[index].Expires)
                {
                    Addresses[index] = new StoredAddress(address, expires, ttl);
                }
            }

            if (Addresses.Count > max)
            {
                var kept = Addresses
                    .Select(static (stored, index) => (stored, index))
                    .OrderByDescending(static pair => pair.stored.Expires)
                    .Take(max)
                    .OrderBy(static pair => pair.index)
                    .Select(static pair => pair.stored)
                    .ToList();
                Addresses.Clear();
                Addresses.AddRange(kept);
            }
        }

        /// <summary>Gives the addresses last given <paramref name="from"/> the TTL <paramref name="to"/>, from now.</summary>
        public void ChangeTtl(TimeSpan from, TimeSpan to, DateTimeOffset now)
        {
            for (var i = 0; i < Addresses.Count; i++)
            {
                if (Addresses[i].Ttl == from)
                {
                    Addresses[i] = Addresses[i] with { Expires = ExpiryOf(now, to), Ttl = to };
                }
            }
        }
    }

    /// <summary>A record whose lock is held until disposal; <see cref="Entry"/> is null when there is none.</summary>
    private readonly ref struct LockedEntry(Entry? entry)
    {
        public Entry? Entry { get; } = entry;

        public void Dispose() => Entry?.Sync.Exit();
    }
}
