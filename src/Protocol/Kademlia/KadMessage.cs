namespace ToolNet.Protocol.Kademlia;

/// <summary>The kind of a Kademlia request (libp2p/specs <c>kad-dht/README.md</c>, "RPC messages").</summary>
public enum KadMessageType
{
    /// <summary>Store a record at the receiver.</summary>
    PutValue = 0,

    /// <summary>Ask for a record and the peers closest to its key.</summary>
    GetValue = 1,

    /// <summary>Announce that the sender provides a key.</summary>
    AddProvider = 2,

    /// <summary>Ask for providers of a key and the peers closest to it.</summary>
    GetProviders = 3,

    /// <summary>Ask for the peers closest to a key.</summary>
    FindNode = 4,

    /// <summary>Deprecated liveness check; still answered (the spec lists it as deprecated, peers still send it).</summary>
    Ping = 5,
}

/// <summary>What the sender of a <see cref="KadPeer"/> knows about its connection to that peer.</summary>
public enum KadConnectionType
{
    /// <summary>No connection and nothing more known (the default).</summary>
    NotConnected = 0,

    /// <summary>A live connection.</summary>
    Connected = 1,

    /// <summary>Recently connected.</summary>
    CanConnect = 2,

    /// <summary>Recently tried hard to connect and failed.</summary>
    CannotConnect = 3,
}

/// <summary>
/// A peer in a message's <c>closerPeers</c> or <c>providerPeers</c>, as it is on the wire: the id and addresses are
/// undecoded bytes, so that the codec stays lossless and a peer sending junk is dealt with where it is used.
/// </summary>
public sealed record KadPeer
{
    /// <summary>The peer id bytes (a multihash).</summary>
    public required ReadOnlyMemory<byte> Id { get; init; }

    /// <summary>The peer's multiaddrs in binary form.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Addresses { get; init; } = [];

    /// <summary>The sender's connection to the peer.</summary>
    public KadConnectionType Connection { get; init; }
}

/// <summary>A DHT record (go-libp2p-record <c>Record</c>): a key, a value and the time the receiver got it.</summary>
public sealed record KadRecord
{
    /// <summary>The record's key, for example <c>/pk/&lt;peer id bytes&gt;</c>.</summary>
    public required ReadOnlyMemory<byte> Key { get; init; }

    /// <summary>The record's value.</summary>
    public required ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>When the receiver got it (RFC 3339), set by a receiver that stores it; senders leave it empty.</summary>
    public string TimeReceived { get; init; } = "";
}

/// <summary>One Kademlia request or response (the <c>dht.pb.Message</c> protobuf).</summary>
public sealed record KadMessage
{
    /// <summary>
    /// The <c>clusterLevelRaw</c> go-libp2p-kad-dht writes in every message: it stores the unused cluster level plus
    /// one, so its messages all carry 1. We write the same, so our messages are byte for byte those of go.
    /// </summary>
    public const int GoClusterLevelRaw = 1;

    /// <summary>What the message asks or answers.</summary>
    public required KadMessageType Type { get; init; }

    /// <summary>The unused Coral cluster level field, kept so that a decoded message re-encodes to the same bytes.</summary>
    public int ClusterLevelRaw { get; init; } = GoClusterLevelRaw;

    /// <summary>The key asked about: a peer id for FIND_NODE, a multihash for providers, a record key for values.</summary>
    public ReadOnlyMemory<byte> Key { get; init; }

    /// <summary>The record of a PUT_VALUE or a GET_VALUE answer.</summary>
    public KadRecord? Record { get; init; }

    /// <summary>Peers closer to <see cref="Key"/> than the responder (FIND_NODE, GET_VALUE, GET_PROVIDERS answers).</summary>
    public IReadOnlyList<KadPeer> CloserPeers { get; init; } = [];

    /// <summary>Providers of <see cref="Key"/> (ADD_PROVIDER requests, GET_PROVIDERS answers).</summary>
    public IReadOnlyList<KadPeer> ProviderPeers { get; init; } = [];
}
