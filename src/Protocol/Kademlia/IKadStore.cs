using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>A record as stored: the bytes a peer sent and when it expires.</summary>
/// <param name="Key">The record key.</param>
/// <param name="Value">The record value (already validated).</param>
/// <param name="Received">When we got it.</param>
/// <param name="Expires">When it stops being served.</param>
public sealed record StoredRecord(byte[] Key, byte[] Value, DateTimeOffset Received, DateTimeOffset Expires);

/// <summary>A peer providing a key, with the addresses it announced.</summary>
/// <param name="Provider">The providing peer.</param>
/// <param name="Addresses">Its addresses, as announced.</param>
/// <param name="Expires">When the announcement lapses.</param>
public sealed record ProviderEntry(PeerId Provider, IReadOnlyList<Multiaddr> Addresses, DateTimeOffset Expires);

/// <summary>A routing table peer as persisted, so a restarted node can rejoin without its bootstrap peers.</summary>
/// <param name="Peer">The peer.</param>
/// <param name="Addresses">Its addresses when it was last seen.</param>
/// <param name="LastSeen">When it last answered or was added.</param>
public sealed record StoredPeer(PeerId Peer, IReadOnlyList<Multiaddr> Addresses, DateTimeOffset LastSeen);

/// <summary>Why a store refused to keep something.</summary>
public enum StoreRefusal
{
    /// <summary>Accepted.</summary>
    None,

    /// <summary>The value is larger than the store keeps.</summary>
    ValueTooLarge,

    /// <summary>The key has as many providers as the store keeps per key.</summary>
    TooManyProvidersForKey,

    /// <summary>The store holds as many rows as it may.</summary>
    StoreFull,
}

/// <summary>
/// What the DHT keeps beyond memory: records, provider records and the routing table's peers. The protocol side
/// knows only this interface; <see cref="MemoryKadStore"/> serves tests and simulations, the node persists it (SQLite).
/// Implementations are thread-safe and enforce their own bounds, returning the reason for a refusal.
/// </summary>
public interface IKadStore
{
    /// <summary>The unexpired record under <paramref name="key"/>, if any.</summary>
    ValueTask<StoredRecord?> GetRecordAsync(ReadOnlyMemory<byte> key, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Stores (or replaces) the record under its key.</summary>
    ValueTask<StoreRefusal> PutRecordAsync(StoredRecord record, CancellationToken cancellationToken = default);

    /// <summary>Adds or refreshes <paramref name="entry"/> as a provider of <paramref name="key"/>.</summary>
    ValueTask<StoreRefusal> AddProviderAsync(ReadOnlyMemory<byte> key, ProviderEntry entry, CancellationToken cancellationToken = default);

    /// <summary>The unexpired providers of <paramref name="key"/>, at most <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<ProviderEntry>> GetProvidersAsync(ReadOnlyMemory<byte> key, DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Records a routing table peer (added or seen again).</summary>
    ValueTask SavePeerAsync(StoredPeer peer, CancellationToken cancellationToken = default);

    /// <summary>Forgets a routing table peer (evicted).</summary>
    ValueTask RemovePeerAsync(PeerId peer, CancellationToken cancellationToken = default);

    /// <summary>The routing table peers saved, most recently seen first.</summary>
    ValueTask<IReadOnlyList<StoredPeer>> LoadPeersAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes expired records and provider records.</summary>
    ValueTask PruneAsync(DateTimeOffset now, CancellationToken cancellationToken = default);
}
