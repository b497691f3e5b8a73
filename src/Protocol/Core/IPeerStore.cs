using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>What the host knows about peers: addresses with expiry, keys, protocols, latency. Thread-safe.</summary>
/// <remarks>
/// Addresses are stored without a trailing <c>/p2p/&lt;id&gt;</c>: one naming the peer itself is stripped,
/// one naming another peer is ignored. A TTL of <see cref="TimeSpan.Zero"/> means "already expired"; negative TTLs
/// are rejected. See <see cref="PeerStoreTtl"/> for the usual values.
/// </remarks>
public interface IPeerStore
{
    /// <summary>Adds addresses of <paramref name="peer"/> that expire after <paramref name="ttl"/>; an address already
    /// known keeps the later of its expiry and the new one (adding never shortens a lifetime).</summary>
    void AddAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl);

    /// <summary>Replaces all addresses of <paramref name="peer"/> with <paramref name="addresses"/>, expiring after
    /// <paramref name="ttl"/> (a zero TTL clears them).</summary>
    void SetAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl);

    /// <summary>The unexpired addresses of <paramref name="peer"/>.</summary>
    IReadOnlyList<Multiaddr> GetAddresses(PeerId peer);

    /// <summary>Records the identity key of <paramref name="peer"/>; it must match the peer id.</summary>
    void AddPublicKey(PeerId peer, PublicKey key);

    /// <summary>The identity key of <paramref name="peer"/>, if known (also extracted from inline-key peer ids).</summary>
    PublicKey? GetPublicKey(PeerId peer);

    /// <summary>Replaces the protocols <paramref name="peer"/> says it supports.</summary>
    void SetProtocols(PeerId peer, IEnumerable<string> protocols);

    /// <summary>The protocols <paramref name="peer"/> said it supports.</summary>
    IReadOnlyList<string> GetProtocols(PeerId peer);

    /// <summary>Records a round-trip-time sample; the store keeps a moving average.</summary>
    void RecordLatency(PeerId peer, TimeSpan roundTrip);

    /// <summary>The moving-average round-trip time of <paramref name="peer"/>, if measured.</summary>
    TimeSpan? GetLatency(PeerId peer);

    /// <summary>Records a metadata value (agent version, protocol version, …).</summary>
    void SetMetadata(PeerId peer, string key, string value);

    /// <summary>A metadata value, if recorded.</summary>
    string? GetMetadata(PeerId peer, string key);

    /// <summary>
    /// Accepts a signed peer record (RFC 0003) if <paramref name="seq"/> is greater than that of the record stored
    /// for <paramref name="peer"/>, then replaces the peer's addresses with <paramref name="addresses"/> (as
    /// <see cref="SetAddresses"/>) and keeps <paramref name="envelope"/> for <see cref="GetPeerRecordEnvelope"/>.
    /// </summary>
    /// <remarks>
    /// Contract: the caller has already opened the envelope (signature verified under the
    /// <c>libp2p-routing-state</c> domain), decoded the record from it and checked that the record's peer id is
    /// <paramref name="peer"/> and matches the envelope's key. The store checks none of that; it only orders records
    /// by sequence number, as RFC 0003 "Peer Store APIs" requires.
    /// </remarks>
    /// <returns>False, changing nothing, when the record is not newer than the stored one (or is refused by a bound
    /// of the store, such as the envelope size).</returns>
    bool ConsumePeerRecord(PeerId peer, ulong seq, IReadOnlyList<Multiaddr> addresses, ReadOnlyMemory<byte> envelope, TimeSpan ttl);

    /// <summary>The signed envelope of the newest accepted peer record of <paramref name="peer"/>, until its TTL ends.</summary>
    ReadOnlyMemory<byte>? GetPeerRecordEnvelope(PeerId peer);

    /// <summary>
    /// The host tells the store whether it has a connection to <paramref name="peer"/>: a connected peer is never
    /// evicted. Not counted: the host passes false when its last connection to the peer closes, which also moves the
    /// addresses held for <see cref="PeerStoreTtl.ConnectedAddress"/> to <see cref="PeerStoreTtl.RecentlyConnected"/>.
    /// </summary>
    void MarkConnected(PeerId peer, bool connected);

    /// <summary>Forgets everything about <paramref name="peer"/>, connected or not.</summary>
    void RemovePeer(PeerId peer);

    /// <summary>Drops expired addresses and records, and peers left with nothing worth keeping. Reads already hide
    /// expired data; the host calls this periodically to free the memory.</summary>
    void Prune();

    /// <summary>Every peer with unexpired addresses or a stored key.</summary>
    IReadOnlyList<PeerId> Peers { get; }
}
