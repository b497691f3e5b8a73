using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>What the host knows about peers: addresses with expiry, keys, protocols, latency. Thread-safe.</summary>
public interface IPeerStore
{
    /// <summary>Adds or extends addresses of <paramref name="peer"/>; they expire after <paramref name="ttl"/>.</summary>
    void AddAddresses(PeerId peer, IEnumerable<Multiaddr> addresses, TimeSpan ttl);

    /// <summary>Replaces the addresses of <paramref name="peer"/> (for example from a newer signed peer record).</summary>
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

    /// <summary>Every peer with unexpired addresses or a key.</summary>
    IReadOnlyList<PeerId> Peers { get; }
}
