namespace ToolNet.Protocol.PubSub;

/// <summary>
/// What one inbound RPC may hold. Every bound is checked while decoding, before the entry it limits is allocated;
/// an RPC that breaks one is refused whole (<see cref="WireFormatException"/>) and the stream that sent it reset.
/// </summary>
public sealed record PubSubRpcLimits
{
    /// <summary>The defaults.</summary>
    public static PubSubRpcLimits Default { get; } = new();

    /// <summary>The largest RPC body, checked against the length prefix before the body is awaited. 1 MiB, as go's
    /// default and the spec's "say to 1 MiB" for a message; a message cannot be larger than the RPC carrying it.</summary>
    public int MaxRpcLength { get; init; } = 1024 * 1024;

    /// <summary>Subscription changes per RPC.</summary>
    public int MaxSubscriptions { get; init; } = 1000;

    /// <summary>Published messages per RPC.</summary>
    public int MaxMessages { get; init; } = 1000;

    /// <summary>The longest topic, in UTF-8 bytes.</summary>
    public int MaxTopicLength { get; init; } = 1024;

    /// <summary>The longest message id.</summary>
    public int MaxMessageIdLength { get; init; } = 1024;

    /// <summary>IHAVE, IWANT and IDONTWANT message ids per RPC, all together.</summary>
    public int MaxMessageIds { get; init; } = 10_000;

    /// <summary>IHAVE, IWANT, GRAFT, PRUNE and IDONTWANT entries per RPC, all together.</summary>
    public int MaxControlEntries { get; init; } = 1000;

    /// <summary>Peer exchange entries per PRUNE.</summary>
    public int MaxPeerExchangePeers { get; init; } = 64;
}
