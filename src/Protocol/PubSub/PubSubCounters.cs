namespace ToolNet.Protocol.PubSub;

/// <summary>What the pubsub service refused or dropped, and why (read with <see cref="Volatile"/> semantics).</summary>
public sealed class PubSubCounters
{
    private long _malformedRpcs;
    private long _graylistedRpcs;
    private long _invalidSignatures;
    private long _rejectedMessages;
    private long _ignoredMessages;
    private long _duplicateMessages;
    private long _unsubscribedTopicMessages;
    private long _deliveredMessages;
    private long _droppedOutboundRpcs;
    private long _droppedSubscriptionMessages;
    private long _refusedGrafts;
    private long _ignoredIHaves;
    private long _ignoredIWants;
    private long _brokenPromises;
    private long _refusedSubscriptions;
    private long _ignoredIDontWants;

    /// <summary>RPCs that failed to decode or broke a bound (the stream was reset).</summary>
    public long MalformedRpcs => Volatile.Read(ref _malformedRpcs);

    /// <summary>RPCs ignored because their sender's score was below the graylist threshold.</summary>
    public long GraylistedRpcs => Volatile.Read(ref _graylistedRpcs);

    /// <summary>Messages whose signature or author did not check out (also counted in <see cref="RejectedMessages"/>).</summary>
    public long InvalidSignatures => Volatile.Read(ref _invalidSignatures);

    /// <summary>Messages rejected (bad signature or a validator said so).</summary>
    public long RejectedMessages => Volatile.Read(ref _rejectedMessages);

    /// <summary>Messages a validator ignored.</summary>
    public long IgnoredMessages => Volatile.Read(ref _ignoredMessages);

    /// <summary>Messages already seen.</summary>
    public long DuplicateMessages => Volatile.Read(ref _duplicateMessages);

    /// <summary>Messages of topics we have not joined.</summary>
    public long UnsubscribedTopicMessages => Volatile.Read(ref _unsubscribedTopicMessages);

    /// <summary>Messages accepted (delivered locally and forwarded).</summary>
    public long DeliveredMessages => Volatile.Read(ref _deliveredMessages);

    /// <summary>RPCs not sent because the peer's queue was full.</summary>
    public long DroppedOutboundRpcs => Volatile.Read(ref _droppedOutboundRpcs);

    /// <summary>Messages dropped because a subscriber did not keep up.</summary>
    public long DroppedSubscriptionMessages => Volatile.Read(ref _droppedSubscriptionMessages);

    /// <summary>GRAFTs refused (unknown topic, backoff, negative score, full mesh).</summary>
    public long RefusedGrafts => Volatile.Read(ref _refusedGrafts);

    /// <summary>IHAVEs ignored (low score, too many this heartbeat, unknown topic).</summary>
    public long IgnoredIHaves => Volatile.Read(ref _ignoredIHaves);

    /// <summary>Requested ids not served (never announced, expired, or asked for too often).</summary>
    public long IgnoredIWants => Volatile.Read(ref _ignoredIWants);

    /// <summary>IWANT promises not kept in time (P7).</summary>
    public long BrokenPromises => Volatile.Read(ref _brokenPromises);

    /// <summary>Subscriptions refused because the peer already announced too many topics.</summary>
    public long RefusedSubscriptions => Volatile.Read(ref _refusedSubscriptions);

    /// <summary>IDONTWANT ids ignored (the peer's budget is spent).</summary>
    public long IgnoredIDontWants => Volatile.Read(ref _ignoredIDontWants);

    internal void MalformedRpc() => Interlocked.Increment(ref _malformedRpcs);

    internal void GraylistedRpc() => Interlocked.Increment(ref _graylistedRpcs);

    internal void InvalidSignature() => Interlocked.Increment(ref _invalidSignatures);

    internal void RejectedMessage() => Interlocked.Increment(ref _rejectedMessages);

    internal void IgnoredMessage() => Interlocked.Increment(ref _ignoredMessages);

    internal void DuplicateMessage() => Interlocked.Increment(ref _duplicateMessages);

    internal void UnsubscribedTopicMessage() => Interlocked.Increment(ref _unsubscribedTopicMessages);

    internal void DeliveredMessage() => Interlocked.Increment(ref _deliveredMessages);

    internal void DroppedOutboundRpc() => Interlocked.Increment(ref _droppedOutboundRpcs);

    internal void DroppedSubscriptionMessage() => Interlocked.Increment(ref _droppedSubscriptionMessages);

    internal void RefusedGraft() => Interlocked.Increment(ref _refusedGrafts);

    internal void IgnoredIHave() => Interlocked.Increment(ref _ignoredIHaves);

    internal void IgnoredIWant(int count) => Interlocked.Add(ref _ignoredIWants, count);

    internal void BrokenPromise(int count) => Interlocked.Add(ref _brokenPromises, count);

    internal void RefusedSubscription() => Interlocked.Increment(ref _refusedSubscriptions);

    internal void IgnoredIDontWant(int count) => Interlocked.Add(ref _ignoredIDontWants, count);
}
