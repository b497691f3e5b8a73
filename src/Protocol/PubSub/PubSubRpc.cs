namespace ToolNet.Protocol.PubSub;

/// <summary>
/// One pubsub RPC (libp2p/specs <c>pubsub/README.md</c> "The RPC", with the gossipsub control message of
/// <c>gossipsub-v1.0.md</c>, the peer exchange and backoff of v1.1 and IDONTWANT of v1.2): subscription changes,
/// published messages and control, any of them possibly empty.
/// </summary>
public sealed record PubSubRpc
{
    /// <summary>An RPC with nothing in it.</summary>
    public static PubSubRpc Empty { get; } = new();

    /// <summary>Topics the sender joined or left.</summary>
    public IReadOnlyList<SubscriptionChange> Subscriptions { get; init; } = [];

    /// <summary>Messages being published or forwarded.</summary>
    public IReadOnlyList<PubSubMessage> Messages { get; init; } = [];

    /// <summary>Gossipsub control; null when absent.</summary>
    public ControlMessage? Control { get; init; }

    /// <summary>Whether the RPC carries nothing (not worth sending).</summary>
    public bool IsEmpty => Subscriptions.Count == 0 && Messages.Count == 0 && (Control is null || Control.IsEmpty);

    /// <summary>Field-by-field equality (records compare lists by reference).</summary>
    public bool HasSameFields(PubSubRpc other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Subscriptions.SequenceEqual(other.Subscriptions)
            && Messages.Count == other.Messages.Count
            && Messages.Zip(other.Messages).All(pair => pair.First.HasSameFields(pair.Second))
            && (Control is null ? other.Control is null : other.Control is not null && Control.HasSameFields(other.Control));
    }
}

/// <summary>A <c>SubOpts</c>: the sender joined (<paramref name="Subscribe"/>) or left <paramref name="Topic"/>.</summary>
public sealed record SubscriptionChange(bool Subscribe, string Topic);

/// <summary>
/// A published message (<c>Message</c> in rpc.proto). Absent optional fields are null, so that re-encoding gives the
/// bytes that were signed (the signature covers the marshalled message without <c>signature</c> and <c>key</c>).
/// </summary>
public sealed record PubSubMessage
{
    /// <summary>The author's peer id bytes; null for anonymous messages.</summary>
    public byte[]? From { get; init; }

    /// <summary>The payload.</summary>
    public byte[]? Data { get; init; }

    /// <summary>The author's sequence number, 8 bytes big-endian when the author follows the spec.</summary>
    public byte[]? Seqno { get; init; }

    /// <summary>The topic (field 4; once <c>repeated string topicIDs</c>, now one topic per message).</summary>
    public required string Topic { get; init; }

    /// <summary>The author's signature over <c>"libp2p-pubsub:" || message without signature and key</c>.</summary>
    public byte[]? Signature { get; init; }

    /// <summary>The author's public key protobuf, when the peer id does not embed it.</summary>
    public byte[]? Key { get; init; }

    /// <summary>Field-by-field equality of the contents.</summary>
    public bool HasSameFields(PubSubMessage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Topic == other.Topic && Same(From, other.From) && Same(Data, other.Data) && Same(Seqno, other.Seqno)
            && Same(Signature, other.Signature) && Same(Key, other.Key);
    }

    internal static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}

/// <summary>The gossipsub <c>ControlMessage</c>.</summary>
public sealed record ControlMessage
{
    /// <summary>Message ids the sender holds, per topic (gossip).</summary>
    public IReadOnlyList<ControlIHave> IHave { get; init; } = [];

    /// <summary>Message ids the sender asks for, after our IHAVE.</summary>
    public IReadOnlyList<ControlIWant> IWant { get; init; } = [];

    /// <summary>Topics whose mesh the sender added us to.</summary>
    public IReadOnlyList<ControlGraft> Graft { get; init; } = [];

    /// <summary>Topics whose mesh the sender removed us from, with backoff and peer exchange (v1.1).</summary>
    public IReadOnlyList<ControlPrune> Prune { get; init; } = [];

    /// <summary>Message ids the sender does not want from us (v1.2).</summary>
    public IReadOnlyList<ControlIDontWant> IDontWant { get; init; } = [];

    /// <summary>Whether there is no control at all.</summary>
    public bool IsEmpty => IHave.Count == 0 && IWant.Count == 0 && Graft.Count == 0 && Prune.Count == 0 && IDontWant.Count == 0;

    /// <summary>Field-by-field equality.</summary>
    public bool HasSameFields(ControlMessage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return IHave.Count == other.IHave.Count && IHave.Zip(other.IHave).All(p => p.First.Topic == p.Second.Topic && SameIds(p.First.MessageIds, p.Second.MessageIds))
            && IWant.Count == other.IWant.Count && IWant.Zip(other.IWant).All(p => SameIds(p.First.MessageIds, p.Second.MessageIds))
            && Graft.SequenceEqual(other.Graft)
            && Prune.Count == other.Prune.Count && Prune.Zip(other.Prune).All(p => p.First.HasSameFields(p.Second))
            && IDontWant.Count == other.IDontWant.Count && IDontWant.Zip(other.IDontWant).All(p => SameIds(p.First.MessageIds, p.Second.MessageIds));
    }

    private static bool SameIds(IReadOnlyList<MessageId> a, IReadOnlyList<MessageId> b) => a.SequenceEqual(b);
}

/// <summary>IHAVE: the sender has these messages of <paramref name="Topic"/> in its cache.</summary>
public sealed record ControlIHave(string? Topic, IReadOnlyList<MessageId> MessageIds);

/// <summary>IWANT: send me these messages.</summary>
public sealed record ControlIWant(IReadOnlyList<MessageId> MessageIds);

/// <summary>GRAFT: the sender added us to its mesh of <paramref name="Topic"/>.</summary>
public sealed record ControlGraft(string? Topic);

/// <summary>IDONTWANT (v1.2): the sender already has these messages.</summary>
public sealed record ControlIDontWant(IReadOnlyList<MessageId> MessageIds);

/// <summary>PRUNE: the sender removed us from its mesh of <paramref name="Topic"/>; with v1.1, other peers of the
/// topic to try (peer exchange) and how long to wait before grafting again.</summary>
public sealed record ControlPrune(string? Topic, IReadOnlyList<PeerExchangeInfo> Peers, ulong? BackoffSeconds)
{
    /// <summary>Field-by-field equality.</summary>
    public bool HasSameFields(ControlPrune other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Topic == other.Topic && BackoffSeconds == other.BackoffSeconds && Peers.Count == other.Peers.Count
            && Peers.Zip(other.Peers).All(p => PubSubMessage.Same(p.First.PeerId, p.Second.PeerId) && PubSubMessage.Same(p.First.SignedPeerRecord, p.Second.SignedPeerRecord));
    }
}

/// <summary>A <c>PeerInfo</c> of peer exchange: a peer id and, optionally, its signed peer record envelope.</summary>
public sealed record PeerExchangeInfo(byte[]? PeerId, byte[]? SignedPeerRecord);
