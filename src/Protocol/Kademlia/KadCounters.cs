namespace ToolNet.Protocol.Kademlia;

/// <summary>What a <see cref="KadService"/> did and refused, counted since it started. Thread-safe.</summary>
public sealed class KadCounters
{
    private long _requestsServed;
    private long _malformedRequests;
    private long _recordsRefused;
    private long _providersRefused;
    private long _junkPeersDropped;
    private long _idleStreamsClosed;
    private long _requestsSent;
    private long _requestsFailed;
    private long _peersEvicted;

    /// <summary>Inbound requests answered.</summary>
    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    /// <summary>Inbound messages that were malformed or of an unknown type (their stream was reset).</summary>
    public long MalformedRequests => Interlocked.Read(ref _malformedRequests);

    /// <summary>Records refused: invalid, of an unknown namespace, older than the one held, or over a store bound.</summary>
    public long RecordsRefused => Interlocked.Read(ref _recordsRefused);

    /// <summary>Provider announcements refused: for another peer, without addresses, or over a store bound.</summary>
    public long ProvidersRefused => Interlocked.Read(ref _providersRefused);

    /// <summary>Peers dropped from answers: undecodable ids, ourselves, no usable address.</summary>
    public long JunkPeersDropped => Interlocked.Read(ref _junkPeersDropped);

    /// <summary>Inbound streams closed after <see cref="KadOptions.StreamIdleTimeout"/> without a request.</summary>
    public long IdleStreamsClosed => Interlocked.Read(ref _idleStreamsClosed);

    /// <summary>Outbound requests sent.</summary>
    public long RequestsSent => Interlocked.Read(ref _requestsSent);

    /// <summary>Outbound requests that failed or timed out.</summary>
    public long RequestsFailed => Interlocked.Read(ref _requestsFailed);

    /// <summary>Routing table peers evicted after a failed request.</summary>
    public long PeersEvicted => Interlocked.Read(ref _peersEvicted);

    internal void RequestServed() => Interlocked.Increment(ref _requestsServed);

    internal void MalformedRequest() => Interlocked.Increment(ref _malformedRequests);

    internal void RecordRefused() => Interlocked.Increment(ref _recordsRefused);

    internal void ProviderRefused() => Interlocked.Increment(ref _providersRefused);

    internal void JunkPeerDropped(int count) => Interlocked.Add(ref _junkPeersDropped, count);

    internal void IdleStreamClosed() => Interlocked.Increment(ref _idleStreamsClosed);

    internal void RequestSent() => Interlocked.Increment(ref _requestsSent);

    internal void RequestFailed() => Interlocked.Increment(ref _requestsFailed);

    internal void PeerEvicted() => Interlocked.Increment(ref _peersEvicted);
}
