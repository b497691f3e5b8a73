namespace ToolNet.Protocol.PubSub;

/// <summary>What a validator decided about a message (libp2p's accept / reject / ignore).</summary>
public enum ValidationResult
{
    /// <summary>Deliver and forward.</summary>
    Accept,

    /// <summary>Invalid: drop, and count against the peer that sent it (P4).</summary>
    Reject,

    /// <summary>Drop without penalty (for example, not interesting now).</summary>
    Ignore,
}

/// <summary>Checks a message of a topic before it is delivered or forwarded.</summary>
public delegate ValueTask<ValidationResult> MessageValidator(PubSubMessage message, CancellationToken cancellationToken);

/// <summary>
/// GossipSub router parameters. The defaults are those of gossipsub-v1.0.md "Parameters", gossipsub-v1.1.md
/// ("Explicit Peering Agreements", "Peer Exchange", "Flood Publishing", "Peer Scoring" thresholds) and
/// gossipsub-v1.2.md (IDONTWANT).
/// </summary>
public sealed record PubSubOptions
{
    /// <summary>The defaults.</summary>
    public static PubSubOptions Default { get; } = new();

    /// <summary>Desired mesh degree.</summary>
    public int D { get; init; } = 6;

    /// <summary>Below this many mesh peers the heartbeat grafts more.</summary>
    public int DLow { get; init; } = 4;

    /// <summary>Above this many mesh peers the heartbeat prunes down to <see cref="D"/>.</summary>
    public int DHigh { get; init; } = 12;

    /// <summary>When pruning, how many of the best-scoring peers are kept (v1.1).</summary>
    public int DScore { get; init; } = 4;

    /// <summary>The mesh keeps at least this many peers on connections we dialled (v1.1, eclipse resistance); must be
    /// below <see cref="DLow"/> and at most <see cref="D"/>/2.</summary>
    public int DOut { get; init; } = 2;

    /// <summary>Peers to gossip IHAVE to per topic and heartbeat, at the least.</summary>
    public int DLazy { get; init; } = 6;

    /// <summary>Gossip goes to this share of the eligible peers when that is more than <see cref="DLazy"/> (v1.1).</summary>
    public double GossipFactor { get; init; } = 0.25;

    /// <summary>How often the mesh is maintained and gossip emitted.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Delay before the first heartbeat.</summary>
    public TimeSpan HeartbeatInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a topic we published to without joining keeps its fanout peers.</summary>
    public TimeSpan FanoutTtl { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Heartbeat windows of the message cache (mcache_len).</summary>
    public int HistoryLength { get; init; } = 5;

    /// <summary>Windows of the message cache gossiped about (mcache_gossip).</summary>
    public int HistoryGossip { get; init; } = 3;

    /// <summary>How long a message id is remembered as seen (seen_ttl).</summary>
    public TimeSpan SeenTtl { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Backoff a PRUNE we send asks for, and the one we keep after a PRUNE without one (v1.1).</summary>
    public TimeSpan PruneBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Backoff after we leave a topic (v1.1, "unsubscribe_backoff").</summary>
    public TimeSpan UnsubscribeBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A GRAFT this soon after its backoff ended still counts as during the backoff (go's graft flood threshold).</summary>
    public TimeSpan GraftFloodThreshold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Peers offered in a PRUNE's peer exchange (v1.1).</summary>
    public int PrunePeers { get; init; } = 16;

    /// <summary>Whether we connect to peers offered in PRUNEs from peers whose score reaches
    /// <see cref="PeerScoreThresholds.AcceptPeerExchange"/>.</summary>
    public bool AcceptPeerExchange { get; init; } = true;

    /// <summary>Whether our own messages go to every topic peer above the publish threshold, not just the mesh (v1.1).</summary>
    public bool FloodPublish { get; init; } = true;

    /// <summary>IHAVE messages taken from one peer per heartbeat; more are ignored (v1.1 "max_ihave_messages").</summary>
    public int MaxIHaveMessages { get; init; } = 10;

    /// <summary>Message ids asked for from one peer per heartbeat, and ids per IHAVE we send (v1.1 "max_ihave_length").</summary>
    public int MaxIHaveLength { get; init; } = 5000;

    /// <summary>How long a peer has to deliver a message we asked for with IWANT before it counts as a broken promise (P7).</summary>
    public TimeSpan IWantFollowupTime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often one peer may ask for the same message with IWANT.</summary>
    public int GossipRetransmission { get; init; } = 3;

    /// <summary>Messages larger than this make us send IDONTWANT to our mesh peers on receipt (v1.2).</summary>
    public int IDontWantMessageThreshold { get; init; } = 1024;

    /// <summary>Heartbeats for which an IDONTWANT is remembered.</summary>
    public int IDontWantTtlHeartbeats { get; init; } = 3;

    /// <summary>IDONTWANT ids remembered per peer; beyond that new ones are ignored.</summary>
    public int MaxIDontWantIds { get; init; } = 10_000;

    /// <summary>Heartbeats between opportunistic grafting rounds (v1.1).</summary>
    public int OpportunisticGraftTicks { get; init; } = 60;

    /// <summary>Peers grafted per opportunistic grafting round.</summary>
    public int OpportunisticGraftPeers { get; init; } = 2;

    /// <summary>RPCs queued for one peer; beyond that further RPCs to it are dropped and counted.</summary>
    public int MaxQueuedRpcsPerPeer { get; init; } = 4096;

    /// <summary>Messages queued for one subscription; beyond that the oldest are dropped and counted.</summary>
    public int SubscriptionBufferSize { get; init; } = 4096;

    /// <summary>Bounds of one inbound RPC.</summary>
    public PubSubRpcLimits Limits { get; init; } = PubSubRpcLimits.Default;

    /// <summary>The message id of a message; by default its author's peer id bytes followed by its seqno.</summary>
    public Func<PubSubMessage, MessageId> MessageIdFunction { get; init; } = MessageId.FromAuthorAndSeqno;

    /// <summary>Peer scoring (v1.1): weights, decay and thresholds.</summary>
    public PeerScoreParameters Score { get; init; } = PeerScoreParameters.Default;

    /// <summary>The clock of heartbeats and every expiry.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
