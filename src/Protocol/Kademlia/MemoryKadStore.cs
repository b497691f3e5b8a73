using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>An <see cref="IKadStore"/> in memory, for tests and simulations, with the same bounds as a persistent one.</summary>
public sealed class MemoryKadStore : IKadStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredRecord> _records = [];
    private readonly Dictionary<string, Dictionary<PeerId, ProviderEntry>> _providers = [];
    private readonly Dictionary<PeerId, StoredPeer> _peers = [];
    private readonly KadStoreLimits _limits;
    private int _providerRows;

    /// <summary>A store with <paramref name="limits"/> (<see cref="KadStoreLimits.Default"/> when null).</summary>
    public MemoryKadStore(KadStoreLimits? limits = null) => _limits = limits ?? KadStoreLimits.Default;

    public ValueTask<StoredRecord?> GetRecordAsync(ReadOnlyMemory<byte> key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_records.TryGetValue(KeyOf(key), out var record) && record.Expires > now ? record : null);
        }
    }

    public ValueTask<StoreRefusal> PutRecordAsync(StoredRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Value.Length > _limits.MaxRecordValueLength)
        {
            return ValueTask.FromResult(StoreRefusal.ValueTooLarge);
        }

        lock (_lock)
        {
            var key = KeyOf(record.Key);
            if (!_records.ContainsKey(key) && _records.Count >= _limits.MaxRecords)
            {
                return ValueTask.FromResult(StoreRefusal.StoreFull);
            }

            _records[key] = record;
            return ValueTask.FromResult(StoreRefusal.None);
        }
    }

    public ValueTask<StoreRefusal> AddProviderAsync(ReadOnlyMemory<byte> key, ProviderEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        lock (_lock)
        {
            var name = KeyOf(key);
            if (!_providers.TryGetValue(name, out var providers))
            {
                if (_providerRows >= _limits.MaxProviderRecords)
                {
                    return ValueTask.FromResult(StoreRefusal.StoreFull);
                }

                providers = [];
                _providers[name] = providers;
            }

            if (!providers.ContainsKey(entry.Provider))
            {
                if (providers.Count >= _limits.MaxProvidersPerKey)
                {
                    return ValueTask.FromResult(StoreRefusal.TooManyProvidersForKey);
                }

                if (_providerRows >= _limits.MaxProviderRecords)
                {
                    return ValueTask.FromResult(StoreRefusal.StoreFull);
                }

                _providerRows++;
            }

            providers[entry.Provider] = entry;
            return ValueTask.FromResult(StoreRefusal.None);
        }
    }

    public ValueTask<IReadOnlyList<ProviderEntry>> GetProvidersAsync(ReadOnlyMemory<byte> key, DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyList<ProviderEntry> found = _providers.TryGetValue(KeyOf(key), out var providers)
                ? [.. providers.Values.Where(p => p.Expires > now).OrderByDescending(p => p.Expires).Take(limit)]
                : [];
            return ValueTask.FromResult(found);
        }
    }

    public ValueTask SavePeerAsync(StoredPeer peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            _peers[peer.Peer] = peer;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask RemovePeerAsync(PeerId peer, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _peers.Remove(peer);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<StoredPeer>> LoadPeersAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<StoredPeer>>([.. _peers.Values.OrderByDescending(p => p.LastSeen)]);
        }
    }

    public ValueTask PruneAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var (key, record) in _records.ToList())
            {
                if (record.Expires <= now)
                {
                    _records.Remove(key);
                }
            }

            foreach (var (key, providers) in _providers.ToList())
            {
                foreach (var (peer, entry) in providers.ToList())
                {
                    if (entry.Expires <= now)
                    {
                        providers.Remove(peer);
                        _providerRows--;
                    }
                }

                if (providers.Count == 0)
                {
                    _providers.Remove(key);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private static string KeyOf(ReadOnlyMemory<byte> key) => Convert.ToBase64String(key.Span);
}

/// <summary>The bounds of a DHT store; each refusal is reported with its <see cref="StoreRefusal"/>.</summary>
public sealed record KadStoreLimits
{
    /// <summary>The defaults.</summary>
    public static KadStoreLimits Default { get; } = new();

    /// <summary>The largest record value kept (go-libp2p-kad-dht's inbound message bound is the only one it has).</summary>
    public int MaxRecordValueLength { get; init; } = 64 * 1024;

    /// <summary>The most records kept.</summary>
    public int MaxRecords { get; init; } = 100_000;

    /// <summary>The most providers kept for one key.</summary>
    public int MaxProvidersPerKey { get; init; } = 100;

    /// <summary>The most provider records kept in all.</summary>
    public int MaxProviderRecords { get; init; } = 1_000_000;
}
