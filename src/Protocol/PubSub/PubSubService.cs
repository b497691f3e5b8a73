using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

/// <summary>A peer joined (<see cref="Joined"/>) or left one of our topic meshes.</summary>
public sealed record MeshChange(string Topic, PeerId Peer, bool Joined);

/// <summary>
/// The node's pubsub router: GossipSub v1.1 with v1.2's IDONTWANT (libp2p/specs <c>pubsub/gossipsub/</c>), speaking
/// <c>/meshsub/1.2.0</c>, <c>/meshsub/1.1.0</c>, <c>/meshsub/1.0.0</c> and, towards peers that only speak that,
/// <c>/floodsub/1.0.0</c>. Messages are signed by their author and verified on receipt (StrictSign).
/// </summary>
/// <remarks>
/// <para>Every connected peer gets one long-lived outbound stream, opened with the first protocol of the list above
/// that it accepts; it opens one towards us, which we read. RPCs to a peer go through a bounded queue drained by a
/// writer task (a full queue drops and counts). All router state is guarded by one lock and never awaited under it.</para>
/// <para>A received message is checked in this order: graylist (the whole RPC), topic joined, seen-cache, signature,
/// validators, then delivered to local subscriptions, cached for gossip and forwarded to mesh (and floodsub) peers,
/// except the peer it came from and peers that sent IDONTWANT for it.</para>
/// </remarks>
public sealed partial class PubSubService : IAsyncDisposable
{
    /// <summary>GossipSub v1.2 (IDONTWANT).</summary>
    public const string MeshSubV12 = "/meshsub/1.2.0";

    /// <summary>GossipSub v1.1.</summary>
    public const string MeshSubV11 = "/meshsub/1.1.0";

    /// <summary>GossipSub v1.0.</summary>
    public const string MeshSubV10 = "/meshsub/1.0.0";

    /// <summary>FloodSub.</summary>
    public const string FloodSub = "/floodsub/1.0.0";

    /// <summary>The most topics one peer may announce; further subscriptions are ignored and counted.</summary>
    public const int MaxTopicsPerPeer = 1000;

    /// <summary>Our protocols, in order of preference.</summary>
    public static IReadOnlyList<string> Protocols { get; } = [MeshSubV12, MeshSubV11, MeshSubV10, FloodSub];

    private const int MaxStreamAttempts = 3;
    private static readonly TimeSpan StreamRetryDelay = TimeSpan.FromSeconds(1);

    // A peer opens one stream to us; a few more allow a replaced stream to overlap its successor.
    private static readonly StreamHandlerOptions HandlerOptions = new() { MaxInboundStreamsPerConnection = 4 };

    private readonly IHost _host;
    private readonly PrivateKey _identityKey;
    private readonly PubSubOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly List<HandlerRegistration> _handlers = [];
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly Random _random = new();

    private readonly Dictionary<PeerId, PubSubPeer> _peers = [];
    private readonly Dictionary<string, HashSet<PeerId>> _topicPeers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PubSubSubscription>> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<PeerId>> _mesh = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<PeerId>> _fanout = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _fanoutLastPublished = new(StringComparer.Ordinal);
    private readonly Dictionary<(PeerId Peer, string Topic), DateTimeOffset> _backoff = [];
    private readonly SeenCache _seen;
    private readonly MessageCache _cache;
    private readonly PeerScore _score;
    private readonly ITimer _heartbeat;
    private long _heartbeatTicks;
    private DateTimeOffset _lastDecay;
    private ulong _seqno;
    private int _disposed;

    /// <summary>Registers the pubsub protocols on <paramref name="host"/>, opens a stream to every peer it connects
    /// to, and starts the heartbeat.</summary>
    /// <param name="host">The host to route on.</param>
    /// <param name="identityKey">The host's identity key: it signs our messages.</param>
    /// <param name="options">Router parameters; <see cref="PubSubOptions.Default"/> when null.</param>
    /// <param name="logger">Where misbehaving peers and failures are reported.</param>
    /// <exception cref="ArgumentException"><paramref name="identityKey"/> is not the key of the host's peer id.</exception>
    public PubSubService(IHost host, PrivateKey identityKey, PubSubOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(identityKey);
        if (!host.PeerId.Matches(identityKey.GetPublicKey()))
        {
            throw new ArgumentException($"the identity key is not the key of the host's peer id {host.PeerId}", nameof(identityKey));
        }

        _host = host;
        _identityKey = identityKey;
        _options = options ?? PubSubOptions.Default;
        _logger = logger ?? NullLogger.Instance;
        _clock = _options.TimeProvider;
        _seen = new SeenCache(_options.SeenTtl, _clock);
        _cache = new MessageCache(_options.HistoryGossip, _options.HistoryLength);
        _score = new PeerScore(_options.Score, _clock);
        _lastDecay = _clock.GetUtcNow();

        // Sequence numbers start at the current time in nanoseconds, so that a restarted node does not reuse the
        // ids of its earlier messages, which peers may still hold as seen.
        _seqno = (ulong)(_clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

        foreach (var protocol in Protocols)
        {
            _handlers.Add(new HandlerRegistration(host, protocol, HandleInboundStreamAsync, HandlerOptions));
        }

        host.ConnectionOpened += OnConnectionOpened;
        host.ConnectionClosed += OnConnectionClosed;
        foreach (var connection in host.GetConnections())
        {
            OnConnectionOpened(host, connection);
        }

        _heartbeat = _clock.CreateTimer(static state => ((PubSubService)state!).Heartbeat(), this, _options.HeartbeatInitialDelay, _options.HeartbeatInterval);
    }

    /// <summary>Raised (outside the router's lock) when a peer joins or leaves one of our meshes.</summary>
    public event EventHandler<MeshChange>? MeshChanged;

    /// <summary>What was refused or dropped.</summary>
    public PubSubCounters Counters { get; } = new();

    /// <summary>Our peer id.</summary>
    public PeerId PeerId => _host.PeerId;

    /// <summary>The options in force.</summary>
    public PubSubOptions Options => _options;

    /// <summary>
    /// Joins <paramref name="topic"/> (if not yet joined) and returns a subscription delivering its messages, our
    /// own included. <paramref name="validator"/>, when given, runs on every message of the topic before it is
    /// delivered to anyone or forwarded; with several subscriptions all validators must accept.
    /// </summary>
    public PubSubSubscription Subscribe(string topic, MessageValidator? validator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var subscription = new PubSubSubscription(topic, validator, _options.SubscriptionBufferSize, Counters, Unsubscribe);
        var changes = new List<MeshChange>();
        lock (_lock)
        {
            if (_subscriptions.TryGetValue(topic, out var existing))
            {
                existing.Add(subscription);
                return subscription;
            }

            _subscriptions[topic] = [subscription];
            Join(topic, changes);
        }

        RaiseMeshChanges(changes);
        return subscription;
    }

    /// <summary>
    /// Publishes <paramref name="data"/> on <paramref name="topic"/>: signs a message, delivers it to our own
    /// subscriptions and sends it to the topic's peers (all of them above the publish threshold with flood
    /// publishing; otherwise the mesh, or the fanout when we have not joined the topic).
    /// </summary>
    /// <returns>The message id and how many peers it was sent to.</returns>
    public ValueTask<(MessageId Id, int Peers)> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        var seqno = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(seqno, Interlocked.Increment(ref _seqno));
        var message = MessageSigning.Sign(new PubSubMessage { Topic = topic, Data = data.ToArray(), Seqno = seqno }, _identityKey);
        var id = _options.MessageIdFunction(message);
        var rpc = new PubSubRpc { Messages = [message] };
        var length = PubSubRpcCodec.GetEncodedLength(rpc);
        if (length > _options.Limits.MaxRpcLength)
        {
            throw new ArgumentException($"the message is {length} bytes encoded, over the {_options.Limits.MaxRpcLength}-byte limit peers accept", nameof(data));
        }

        int sent;
        lock (_lock)
        {
            _seen.Add(id);
            _cache.Put(id, message);
            DeliverLocally(message);
            var targets = SelectPublishTargets(topic);
            foreach (var peer in targets)
            {
                Send(peer, rpc);
            }

            sent = targets.Count;
        }

        return ValueTask.FromResult((id, sent));
    }

    /// <summary>The peers that announced <paramref name="topic"/>.</summary>
    public IReadOnlyList<PeerId> GetTopicPeers(string topic)
    {
        lock (_lock)
        {
            return _topicPeers.TryGetValue(topic, out var peers) ? [.. peers] : [];
        }
    }

    /// <summary>Our mesh peers of <paramref name="topic"/>.</summary>
    public IReadOnlyList<PeerId> GetMeshPeers(string topic)
    {
        lock (_lock)
        {
            return _mesh.TryGetValue(topic, out var peers) ? [.. peers] : [];
        }
    }

    /// <summary>The topics we have joined.</summary>
    public IReadOnlyList<string> GetTopics()
    {
        lock (_lock)
        {
            return [.. _subscriptions.Keys];
        }
    }

    /// <summary>The peers we route with (those with whom we exchange pubsub RPCs).</summary>
    public IReadOnlyList<PeerId> GetPeers()
    {
        lock (_lock)
        {
            return [.. _peers.Values.Where(p => p.Protocol is not null).Select(p => p.Id)];
        }
    }

    /// <summary>The peer's v1.1 score now.</summary>
    public double GetScore(PeerId peer)
    {
        lock (_lock)
        {
            return _score.Score(peer);
        }
    }

    /// <summary>Adds to a peer's behaviour penalty (P7), for misbehaviour the application detects.</summary>
    public void Penalize(PeerId peer, int count = 1)
    {
        lock (_lock)
        {
            _score.AddPenalty(peer, count);
        }
    }

    /// <summary>Sends <paramref name="rpc"/> as it is to <paramref name="peer"/> (for tests and tools that need to
    /// send what the router would not, such as a badly signed message).</summary>
    /// <returns>False when the peer is not a pubsub peer of ours.</returns>
    public bool SendRaw(PeerId peer, PubSubRpc rpc)
    {
        lock (_lock)
        {
            if (!_peers.TryGetValue(peer, out var state))
            {
                return false;
            }

            Send(state, rpc);
            return true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _host.ConnectionOpened -= OnConnectionOpened;
        _host.ConnectionClosed -= OnConnectionClosed;
        await _heartbeat.DisposeAsync();
        foreach (var handler in _handlers)
        {
            handler.Dispose();
        }

        List<PubSubSubscription> subscriptions;
        lock (_lock)
        {
            foreach (var peer in _peers.Values)
            {
                peer.Queue.Writer.TryComplete();
            }

            subscriptions = [.. _subscriptions.Values.SelectMany(s => s)];
        }

        foreach (var subscription in subscriptions)
        {
            subscription.Complete();
        }

        // Writers drain what is queued (a leave, the last forwards), bounded by their own stream errors.
        await Task.WhenAny(Task.WhenAll(_background.Keys), Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System));
        await _lifetime.CancelAsync();
        await Task.WhenAll(_background.Keys).ContinueWith(static _ => { }, TaskScheduler.Default);
        lock (_lock)
        {
            foreach (var peer in _peers.Values)
            {
                peer.Lifetime.Dispose();
            }
        }

        _lifetime.Dispose();
    }

    private void Unsubscribe(PubSubSubscription subscription)
    {
        var changes = new List<MeshChange>();
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(subscription.Topic, out var list) || !list.Remove(subscription) || list.Count > 0)
            {
                return;
            }

            _subscriptions.Remove(subscription.Topic);
            if (_disposed == 0)
            {
                Leave(subscription.Topic, changes);
            }
        }

        RaiseMeshChanges(changes);
    }

    // ---- peers and streams -------------------------------------------------------------------------------------

    private void OnConnectionOpened(object? sender, IConnection connection)
    {
        if (_disposed != 0 || connection.IsLimited)
        {
            return;
        }

        PubSubPeer? added = null;
        lock (_lock)
        {
            if (!_peers.ContainsKey(connection.RemotePeer))
            {
                added = new PubSubPeer(connection.RemotePeer, connection.Direction == Direction.Outbound, _options.MaxQueuedRpcsPerPeer);
                _peers[connection.RemotePeer] = added;
                _score.AddPeer(connection.RemotePeer, PeerScoreParameters.AddressOf(connection.RemoteAddress));
            }
        }

        if (added is not null)
        {
            Track(RunWriterAsync(added));
        }
    }

    private void OnConnectionClosed(object? sender, IConnection connection)
    {
        if (_host.GetConnections(connection.RemotePeer).Count == 0)
        {
            RemovePeer(connection.RemotePeer, null);
        }
    }

    /// <summary>Forgets <paramref name="peerId"/> (only the given state when <paramref name="only"/> is set: a writer
    /// that failed must not remove a successor).</summary>
    private void RemovePeer(PeerId peerId, PubSubPeer? only)
    {
        var changes = new List<MeshChange>();
        lock (_lock)
        {
            if (!_peers.TryGetValue(peerId, out var peer) || (only is not null && !ReferenceEquals(peer, only)))
            {
                return;
            }

            _peers.Remove(peerId);
            foreach (var topic in peer.Topics)
            {
                RemoveTopicPeer(topic, peerId, changes);
            }

            _score.RemovePeer(peerId);
            peer.Queue.Writer.TryComplete();
            if (_disposed == 0)
            {
                peer.Lifetime.Cancel();
            }
        }

        RaiseMeshChanges(changes);
    }

    /// <summary>Opens our stream to the peer, sends our subscriptions, then whatever is queued, until the peer goes.</summary>
    private async Task RunWriterAsync(PubSubPeer peer)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, peer.Lifetime.Token);
        var cancellationToken = linked.Token;
        IStream? stream = null;
        for (var attempt = 1; stream is null; attempt++)
        {
            try
            {
                stream = await _host.NewStreamAsync(peer.Id, Protocols, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or TimeoutException or InvalidOperationException)
            {
                PubSubLog.StreamEnded(_logger, "to", peer.Id, ex.Message);

                // Not a pubsub peer, gone, or out of attempts. A stream that failed to open on a live connection
                // (a loaded peer, a muxer refusing for a moment) is tried again a few times before giving up.
                if (ex is ProtocolNegotiationException || cancellationToken.IsCancellationRequested
                    || attempt >= MaxStreamAttempts || _host.GetConnections(peer.Id).Count == 0)
                {
                    RemovePeer(peer.Id, peer);
                    return;
                }

                try
                {
                    await Task.Delay(StreamRetryDelay, _clock, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    RemovePeer(peer.Id, peer);
                    return;
                }
            }
        }

        await using (stream)
        {
            try
            {
                PubSubRpc hello;
                lock (_lock)
                {
                    peer.Protocol = stream.Protocol;
                    peer.OutboundStream = stream;
                    hello = new PubSubRpc { Subscriptions = [.. _subscriptions.Keys.Select(t => new SubscriptionChange(true, t))] };
                }

                PubSubLog.PeerAdded(_logger, peer.Id, stream.Protocol);
                if (!hello.IsEmpty)
                {
                    PubSubRpcCodec.WriteDelimited(hello, stream.Output, _options.Limits.MaxRpcLength);
                    await stream.Output.FlushAsync(cancellationToken);
                }

                var reader = peer.Queue.Reader;
                while (await reader.WaitToReadAsync(cancellationToken))
                {
                    while (reader.TryRead(out var rpc))
                    {
                        PubSubRpcCodec.WriteDelimited(ForProtocol(rpc, peer), stream.Output, int.MaxValue);
                    }

                    var flush = await stream.Output.FlushAsync(cancellationToken);
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }

                await stream.CloseWriteAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                PubSubLog.StreamEnded(_logger, "to", peer.Id, ex.Message);
                stream.Reset();
            }
        }

        if (!_lifetime.IsCancellationRequested)
        {
            RemovePeer(peer.Id, peer);
        }
    }

    /// <summary>Floodsub peers get no control; gossipsub v1.0 peers get no peer exchange or backoff, v1.1 no IDONTWANT.</summary>
    private static PubSubRpc ForProtocol(PubSubRpc rpc, PubSubPeer peer)
    {
        if (rpc.Control is not { } control || peer.SpeaksV12)
        {
            return rpc;
        }

        if (!peer.SpeaksGossipSub)
        {
            return rpc with { Control = null };
        }

        return rpc with
        {
            Control = control with
            {
                IDontWant = [],
                Prune = peer.SpeaksV11 ? control.Prune : [.. control.Prune.Select(p => p with { Peers = [], BackoffSeconds = null })],
            },
        };
    }

    /// <summary>Reads the peer's stream to us, one RPC at a time.</summary>
    private async Task HandleInboundStreamAsync(IStream stream, CancellationToken cancellationToken)
    {
        var peerId = stream.Connection.RemotePeer;
        OnConnectionOpened(this, stream.Connection);
        lock (_lock)
        {
            // What the peer chose for its stream to us is what it speaks, until our own stream's negotiation says.
            if (_peers.TryGetValue(peerId, out var peer))
            {
                peer.Protocol ??= stream.Protocol;
            }
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        var input = stream.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(linked.Token);
                var buffer = result.Buffer;
                try
                {
                    while (PubSubRpcCodec.TryReadDelimited(ref buffer, _options.Limits, out var rpc))
                    {
                        await HandleRpcAsync(peerId, rpc, linked.Token);
                    }
                }
                catch (WireFormatException ex)
                {
                    Counters.MalformedRpc();
                    PubSubLog.MalformedRpc(_logger, peerId, ex.Message);
                    input.AdvanceTo(buffer.Start);
                    stream.Reset();
                    return;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            await stream.CloseWriteAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            PubSubLog.StreamEnded(_logger, "from", peerId, ex.Message);
            stream.Reset();
        }
    }

    /// <summary>Queues <paramref name="rpc"/> for <paramref name="peer"/>; a full queue drops it. Call under the lock.</summary>
    private void Send(PubSubPeer peer, PubSubRpc rpc)
    {
        if (!peer.Queue.Writer.TryWrite(rpc) && !peer.Lifetime.IsCancellationRequested)
        {
            Counters.DroppedOutboundRpc();
            PubSubLog.QueueFull(_logger, peer.Id);
        }
    }

    private void Track(Task task)
    {
        _background[task] = 0;
        task.ContinueWith(t => _background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void RaiseMeshChanges(List<MeshChange> changes)
    {
        foreach (var change in changes)
        {
            MeshChanged?.Invoke(this, change);
        }
    }
}
