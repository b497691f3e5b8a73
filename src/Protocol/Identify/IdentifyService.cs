using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Identify;

/// <summary>
/// The node's identify service (libp2p/specs <c>identify/README.md</c>): answers <c>/ipfs/id/1.0.0</c> with our
/// information, takes <c>/ipfs/id/push/1.0.0</c> updates from peers, identifies peers (by default every new
/// connection) and pushes our changes. What peers tell us goes into the host's <see cref="IPeerStore"/>.
/// </summary>
/// <remarks>
/// <para>
/// Pushing (spec "identify/push": sent "when a peer's basic information changes"): when the host reports that our
/// protocols or listen addresses changed, the service waits <see cref="IdentifyOptions.PushDelay"/> so that a burst
/// of changes makes one push, then pushes to every connected peer that supports push, if what we announce differs
/// from what we last announced. A peer has at most one push in flight; changes meanwhile make one more push after it.
/// Pushes to all peers together are bounded by <see cref="IdentifyOptions.MaxConcurrentPushes"/>; failures are logged
/// at Debug, never thrown. New addresses come with a newly signed peer record of a higher sequence number.
/// </para>
/// <para>
/// Peer store rules: a verified signed peer record replaces the peer's addresses (unless an earlier identify brought a
/// record with a higher sequence number); unsigned listen addresses are only added, since a claim nobody signed should
/// not evict what we learned elsewhere. A message whose public key is not the connection's peer is ignored whole.
/// </para>
/// </remarks>
public sealed class IdentifyService : IAsyncDisposable
{
    /// <summary>The identify protocol id.</summary>
    public const string ProtocolId = "/ipfs/id/1.0.0";

    /// <summary>The identify push protocol id.</summary>
    public const string PushProtocolId = "/ipfs/id/push/1.0.0";

    /// <summary>The peer store metadata key of a peer's agent version.</summary>
    public const string AgentVersionKey = "AgentVersion";

    /// <summary>The peer store metadata key of a peer's protocol version.</summary>
    public const string ProtocolVersionKey = "ProtocolVersion";

    // Identify must work on relayed (limited) connections too: it is how a peer behind a relay learns its addresses.
    private static readonly StreamHandlerOptions HandlerOptions = new() { RunOnLimitedConnection = true };

    private readonly IHost _host;
    private readonly PrivateKey _identityKey;
    private readonly byte[] _publicKey;
    private readonly IdentifyOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<IConnection, Task<IdentifyResult>> _identifying = new(ReferenceEqualityComparer.Instance);

    // Exchanges under way whose peer pushed while they waited for the answer: the answer may have been built before the
    // push, so its protocols must not replace the pushed ones (spec/connections.md, "Identify answers and pushes").
    private readonly HashSet<IConnection> _overtakenByPush = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<PeerId, PeerPushes> _pushes = [];
    private readonly SemaphoreSlim _pushSlots;
    private readonly ITimer? _pushTimer;
    private bool _pushScheduled;
    private (IReadOnlyList<Multiaddr> Addresses, byte[] Envelope)? _signedRecord;
    private ulong _lastSeq;
    private (IReadOnlyList<string> Protocols, IReadOnlyList<Multiaddr> Addresses) _announced;
    private int _disposed;

    /// <summary>Registers the identify and push handlers on <paramref name="host"/> and, unless
    /// <see cref="IdentifyOptions.IdentifyOnConnect"/> is off, starts identifying every connection it opens.</summary>
    /// <param name="host">The host to serve on.</param>
    /// <param name="identityKey">The host's identity key: it signs our peer record.</param>
    /// <param name="options">Versions, timeouts and address TTL; <see cref="IdentifyOptions.Default"/> when null.</param>
    /// <param name="logger">Where to report misbehaving peers and failures.</param>
    /// <exception cref="ArgumentException"><paramref name="identityKey"/> is not the key of the host's peer id.</exception>
    public IdentifyService(IHost host, PrivateKey identityKey, IdentifyOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(identityKey);
        var publicKey = identityKey.GetPublicKey();
        if (!host.PeerId.Matches(publicKey))
        {
            throw new ArgumentException($"the identity key is not the key of the host's peer id {host.PeerId}", nameof(identityKey));
        }

        _host = host;
        _identityKey = identityKey;
        _publicKey = publicKey.ToProtobuf();
        _options = options ?? IdentifyOptions.Default;
        _logger = logger ?? NullLogger.Instance;
        _pushSlots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentPushes));
        host.SetStreamHandler(ProtocolId, HandleIdentifyAsync, HandlerOptions);
        host.SetStreamHandler(PushProtocolId, HandlePushAsync, HandlerOptions);
        if (_options.PushOnChange)
        {
            _pushTimer = _options.TimeProvider.CreateTimer(
                static service => ((IdentifyService)service!).PushChanges(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            host.LocalPeerChanged += OnLocalPeerChanged;
        }

        // After subscribing: a change from here on is either in this snapshot or pushed.
        _announced = Snapshot();
        if (_options.IdentifyOnConnect)
        {
            host.ConnectionOpened += OnConnectionOpened;
        }
    }

    /// <summary>Raised after a peer's identify answer or push was checked and recorded in the peer store.</summary>
    public event EventHandler<IdentifyResult>? PeerIdentified;

    /// <summary>
    /// Identifies the peer on <paramref name="connection"/>: asks for its identify message, checks it and records it
    /// in the peer store (key, protocols, agent and protocol version, addresses with <see cref="IdentifyOptions.AddressTtl"/>).
    /// Calls for a connection whose identify is already under way (for example the one every new connection gets)
    /// share that exchange rather than open a second identify stream: js-libp2p accepts one inbound identify stream
    /// per connection and resets any other.
    /// </summary>
    /// <param name="connection">The connection to identify the peer of.</param>
    /// <param name="cancellationToken">Stops waiting; the exchange itself goes on, bounded by
    /// <see cref="IdentifyOptions.Timeout"/>, for whoever else waits for it.</param>
    /// <exception cref="IdentifyException">The answer was malformed, or its public key is not the peer's.</exception>
    /// <exception cref="TimeoutException">No complete answer within <see cref="IdentifyOptions.Timeout"/>.</exception>
    /// <exception cref="IOException">The stream could not be opened (<see cref="Multistream.ProtocolNegotiationException"/>
    /// when the peer does not speak identify) or failed.</exception>
    public async ValueTask<IdentifyResult> IdentifyAsync(IConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        TaskCompletionSource<IdentifyResult>? started = null;
        Task<IdentifyResult> exchange;
        lock (_lock)
        {
            if (!_identifying.TryGetValue(connection, out var running))
            {
                started = new TaskCompletionSource<IdentifyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                running = started.Task;
                _identifying.Add(connection, running);
            }

            exchange = running;
        }

        if (started is not null)
        {
            Track(ExchangeAsync(connection, started));
        }

        return await exchange.WaitAsync(cancellationToken);
    }

    /// <summary>One identify exchange, completing <paramref name="outcome"/> for everyone waiting for it.</summary>
    private async Task ExchangeAsync(IConnection connection, TaskCompletionSource<IdentifyResult> outcome)
    {
        try
        {
            using var timeout = StartTimeout(_lifetime.Token);
            IdentifyMessage message;
            try
            {
                var stream = await connection.NewStreamAsync([ProtocolId], timeout.Token);
                await using (stream)
                {
                    message = await ReceiveAsync(stream, "identify", timeout.Token);
                }
            }
            catch (OperationCanceledException) when (!_lifetime.IsCancellationRequested)
            {
                throw new TimeoutException($"identify of {connection.RemotePeer} took longer than {_options.Timeout}");
            }

            var result = Interpret(message, connection, "identify");
            Record(result, isPush: false, connection);
            Finish(connection);
            outcome.SetResult(result);
        }
        catch (Exception ex)
        {
            Finish(connection);
            outcome.SetException(ex);
        }
    }

    /// <summary>Ends the exchange under way on <paramref name="connection"/>: the next identify opens a new stream.</summary>
    private void Finish(IConnection connection)
    {
        lock (_lock)
        {
            _identifying.Remove(connection);
            _overtakenByPush.Remove(connection);
        }
    }

    /// <summary>Pushes our current identify message to the peer on <paramref name="connection"/>.</summary>
    /// <exception cref="TimeoutException">The push took longer than <see cref="IdentifyOptions.Timeout"/>.</exception>
    /// <exception cref="IOException">The stream could not be opened or failed.</exception>
    public async Task PushAsync(IConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        using var timeout = StartTimeout(cancellationToken);
        try
        {
            var stream = await connection.NewStreamAsync([PushProtocolId], timeout.Token);
            await using (stream)
            {
                await SendAsync(stream, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"identify push to {connection.RemotePeer} took longer than {_options.Timeout}");
        }
    }

    /// <summary>
    /// Pushes our current identify message to every connected peer that may support push (one connection per peer;
    /// peers whose identified protocols lack push are skipped). A failure with one peer is logged, not thrown. A peer
    /// already being pushed to gets one more push once that ends.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; the pushes go on, each bounded by <see cref="IdentifyOptions.Timeout"/>.</param>
    /// <returns>How many peers received the push.</returns>
    public async Task<int> PushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var current = Snapshot();
        lock (_lock)
        {
            _announced = current;
        }

        var pushed = await Task.WhenAll(PushToConnectedPeers()).WaitAsync(cancellationToken);
        return pushed.Count(success => success);
    }

    /// <summary>Pushes to every connected peer (see <see cref="PushAsync(CancellationToken)"/>) when our protocols or
    /// advertised addresses differ from those last announced. The service does this by itself after the host reports
    /// a change (<see cref="IdentifyOptions.PushOnChange"/>); call it when something else changed what we announce,
    /// for example the addresses <see cref="IdentifyOptions.AdvertisedAddresses"/> returns.</summary>
    /// <param name="cancellationToken">Stops waiting; the pushes go on.</param>
    /// <returns>Whether anything had changed.</returns>
    public async Task<bool> PushIfChangedAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!TryAnnounceChanges())
        {
            return false;
        }

        await Task.WhenAll(PushToConnectedPeers()).WaitAsync(cancellationToken);
        return true;
    }

    /// <summary>Our identify message as sent on <paramref name="connection"/>: versions, key, advertised addresses,
    /// the connection's remote address as the observed address, our protocols and our signed peer record.</summary>
    public IdentifyMessage CreateMessage(IConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var addresses = AdvertisedAddresses();
        return new IdentifyMessage
        {
            ProtocolVersion = _options.ProtocolVersion,
            AgentVersion = _options.AgentVersion,
            PublicKey = _publicKey,
            ListenAddresses = [.. addresses.Select(address => address.ToBytes())],
            ObservedAddress = connection.RemoteAddress.IsEmpty ? null : connection.RemoteAddress.ToBytes(),
            Protocols = [.. _host.Protocols],
            SignedPeerRecord = SignedPeerRecord(addresses),
        };
    }

    /// <summary>Removes the handlers, stops identifying new connections and waits for identifies under way to end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _host.ConnectionOpened -= OnConnectionOpened;
        _host.LocalPeerChanged -= OnLocalPeerChanged;
        if (_pushTimer is not null)
        {
            // Waits for a push round being started by the timer, so that the wait below covers its pushes.
            await _pushTimer.DisposeAsync();
        }

        _host.RemoveStreamHandler(ProtocolId);
        _host.RemoveStreamHandler(PushProtocolId);
        // Cancelled, never disposed: a connection event already on its way may still read the token.
        await _lifetime.CancelAsync();
        await Task.WhenAll(_background.Keys);
        _pushSlots.Dispose();
    }

    private async Task HandleIdentifyAsync(IStream stream, CancellationToken cancellationToken)
    {
        using var timeout = StartTimeout(cancellationToken);
        try
        {
            await SendAsync(stream, timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            IdentifyLog.ExchangeFailed(_logger, "Answering identify", stream.Connection.RemotePeer, ex.Message);
        }
    }

    private async Task HandlePushAsync(IStream stream, CancellationToken cancellationToken)
    {
        using var timeout = StartTimeout(cancellationToken);
        try
        {
            var message = await ReceiveAsync(stream, "identify push", timeout.Token);
            Record(Interpret(message, stream.Connection, "identify push"), isPush: true, stream.Connection);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // IdentifyException is an IOException and was logged where it arose.
            IdentifyLog.ExchangeFailed(_logger, "Receiving identify push", stream.Connection.RemotePeer, ex.Message);
        }
    }

    /// <summary>Sends our message, half-closes, then waits for the remote to half-close; resets on failure.</summary>
    private async Task SendAsync(IStream stream, CancellationToken cancellationToken)
    {
        try
        {
            await IdentifySession.SendAsync(stream.Output, CreateMessage(stream.Connection), cancellationToken);
            await stream.CloseWriteAsync(cancellationToken);
            await IdentifySession.WaitForRemoteCloseAsync(stream.Input, cancellationToken);
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    /// <summary>Half-closes (we send nothing), then reads the remote's message; resets on failure.</summary>
    private async Task<IdentifyMessage> ReceiveAsync(IStream stream, string kind, CancellationToken cancellationToken)
    {
        try
        {
            await stream.CloseWriteAsync(cancellationToken);
            return await IdentifySession.ReceiveAsync(stream.Input, cancellationToken);
        }
        catch (WireFormatException ex)
        {
            stream.Reset();
            IdentifyLog.MalformedMessage(_logger, kind, stream.Connection.RemotePeer, ex.Message);
            throw new IdentifyException($"malformed {kind} message from {stream.Connection.RemotePeer}: {ex.Message}", ex);
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    private IdentifyResult Interpret(IdentifyMessage message, IConnection connection, string kind)
    {
        try
        {
            return IdentifyResult.FromMessage(message, connection.RemotePeer, _logger);
        }
        catch (IdentifyException ex)
        {
            IdentifyLog.IgnoredMessage(_logger, kind, connection.RemotePeer, connection.Id, ex.Message);
            throw;
        }
    }

    /// <summary>Records what a checked message says; a push leaves whatever it does not carry unchanged, and an
    /// answer leaves the protocols of a push received while it was awaited.</summary>
    private void Record(IdentifyResult result, bool isPush, IConnection connection)
    {
        var store = _host.PeerStore;
        var peer = result.Peer;
        if (result.PublicKey is not null)
        {
            store.AddPublicKey(peer, result.PublicKey);
        }

        if (result.ProtocolVersion is not null)
        {
            store.SetMetadata(peer, ProtocolVersionKey, result.ProtocolVersion);
        }

        if (result.AgentVersion is not null)
        {
            store.SetMetadata(peer, AgentVersionKey, result.AgentVersion);
        }

        RecordProtocols(result, isPush, connection);

        if (result.SignedPeerRecord is { } record && result.SignedPeerRecordEnvelope is { } envelope)
        {
            // The store keeps the newest record per peer (by seq) and its envelope; an older one changes nothing.
            if (!store.ConsumePeerRecord(peer, record.Seq, record.Addresses, envelope.ToProtobuf(), _options.AddressTtl))
            {
                IdentifyLog.StalePeerRecord(_logger, peer, record.Seq);
            }
        }
        else if (result.ListenAddresses.Count > 0)
        {
            store.AddAddresses(peer, result.ListenAddresses, _options.AddressTtl);
        }

        PeerIdentified?.Invoke(this, result);
    }

    /// <summary>
    /// Protocols are replaced, not merged, so an answer built before a push must not land after it: a push marks every
    /// exchange with that peer still awaiting its answer as overtaken, and an overtaken answer's protocols are dropped.
    /// Safe because a peer pushes after every change: if its protocols changed again after the push, another push
    /// follows. The check and the store write share the lock, so they cannot interleave with a push.
    /// </summary>
    private void RecordProtocols(IdentifyResult result, bool isPush, IConnection connection)
    {
        lock (_lock)
        {
            if (isPush)
            {
                foreach (var identifying in _identifying.Keys)
                {
                    if (identifying.RemotePeer == result.Peer)
                    {
                        _overtakenByPush.Add(identifying);
                    }
                }

                if (result.Protocols.Count == 0)
                {
                    return;
                }
            }
            else if (_overtakenByPush.Contains(connection))
            {
                IdentifyLog.AnswerOvertakenByPush(_logger, result.Peer, connection.Id);
                return;
            }

            _host.PeerStore.SetProtocols(result.Peer, result.Protocols);
        }
    }

    /// <summary>The host reported a change: push once <see cref="IdentifyOptions.PushDelay"/> has passed, unless a
    /// push is already scheduled (it will carry this change too).</summary>
    private void OnLocalPeerChanged(object? sender, LocalPeerChange change)
    {
        lock (_lock)
        {
            if (_pushScheduled || _disposed != 0)
            {
                return;
            }

            _pushScheduled = true;
        }

        try
        {
            _pushTimer!.Change(_options.PushDelay, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and here: nothing to push any more.
        }
    }

    /// <summary>The push timer fired: pushes what changed since the last announcement. Runs on a timer thread, so
    /// nothing may escape it.</summary>
    private void PushChanges()
    {
        lock (_lock)
        {
            // Cleared before the snapshot: a change from here on is either in it or schedules the next push.
            _pushScheduled = false;
        }

        if (_lifetime.IsCancellationRequested)
        {
            return;
        }

        try
        {
            if (TryAnnounceChanges())
            {
                // Each peer's push is tracked on its own (see RequestPush); nobody waits for this round as a whole.
                _ = PushToConnectedPeers();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            IdentifyLog.PushRoundFailed(_logger, ex.Message);
        }
    }

    /// <summary>Makes the current snapshot the announced one if it differs from it.</summary>
    /// <returns>Whether it differed.</returns>
    private bool TryAnnounceChanges()
    {
        var current = Snapshot();
        lock (_lock)
        {
            if (current.Protocols.SequenceEqual(_announced.Protocols, StringComparer.Ordinal) && current.Addresses.SequenceEqual(_announced.Addresses))
            {
                return false;
            }

            _announced = current;
            return true;
        }
    }

    /// <summary>Requests a push to each connected peer that may support it.</summary>
    /// <returns>Per peer, whether its push succeeded.</returns>
    private Task<bool>[] PushToConnectedPeers() =>
        [.. _host.GetConnections().Select(connection => connection.RemotePeer).Distinct().Where(MaySupportPush).Select(RequestPush)];

    /// <summary>
    /// Requests a push to <paramref name="peer"/> that starts after this call. A peer has at most one push in flight:
    /// if one is, the request waits for it and then shares the next push with any other request made meanwhile.
    /// </summary>
    /// <returns>Whether that push succeeded; never faults.</returns>
    private Task<bool> RequestPush(PeerId peer)
    {
        PeerPushes? started = null;
        Task<bool> requested;
        lock (_lock)
        {
            if (!_pushes.TryGetValue(peer, out var pushes))
            {
                pushes = started = new PeerPushes();
                _pushes.Add(peer, pushes);
            }

            pushes.Next ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            requested = pushes.Next.Task;
        }

        if (started is not null)
        {
            Track(PushWhileRequestedAsync(peer, started));
        }

        return requested;
    }

    /// <summary>Pushes to <paramref name="peer"/> until no request is left, one push at a time.</summary>
    private async Task PushWhileRequestedAsync(PeerId peer, PeerPushes pushes)
    {
        // Off the caller's thread (a timer callback, or a caller about to wait for all peers).
        await Task.Yield();
        while (true)
        {
            TaskCompletionSource<bool> requested;
            lock (_lock)
            {
                if (pushes.Next is null)
                {
                    _pushes.Remove(peer);
                    return;
                }

                requested = pushes.Next;
                pushes.Next = null;
            }

            requested.SetResult(await PushQuietlyAsync(peer));
        }
    }

    /// <summary>One push to <paramref name="peer"/> on one of its connections, within the concurrency bound.</summary>
    /// <returns>Whether it succeeded; failures (no connection left, negotiation, I/O, timeout, disposal) are logged.</returns>
    private async Task<bool> PushQuietlyAsync(PeerId peer)
    {
        var connections = _host.GetConnections(peer);
        var connection = connections.FirstOrDefault(c => !c.IsLimited) ?? (connections.Count > 0 ? connections[0] : null);
        if (connection is null)
        {
            return false;
        }

        try
        {
            await _pushSlots.WaitAsync(_lifetime.Token);
            try
            {
                await PushAsync(connection, _lifetime.Token);
                return true;
            }
            finally
            {
                _pushSlots.Release();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            IdentifyLog.ExchangeFailed(_logger, "Identify push", peer, ex.Message);
            return false;
        }
    }

    private bool MaySupportPush(PeerId peer)
    {
        var protocols = _host.PeerStore.GetProtocols(peer);
        return protocols.Count == 0 || protocols.Contains(PushProtocolId, StringComparer.Ordinal);
    }

    private IReadOnlyList<Multiaddr> AdvertisedAddresses() => _options.AdvertisedAddresses?.Invoke() ?? _host.ListenAddresses;

    private (IReadOnlyList<string> Protocols, IReadOnlyList<Multiaddr> Addresses) Snapshot() =>
        ([.. _host.Protocols], [.. AdvertisedAddresses()]);

    /// <summary>Our signed peer record for <paramref name="addresses"/>, signed again only when they change.</summary>
    private byte[] SignedPeerRecord(IReadOnlyList<Multiaddr> addresses)
    {
        lock (_lock)
        {
            if (_signedRecord is { } cached && cached.Addresses.SequenceEqual(addresses))
            {
                return cached.Envelope;
            }

            // The sequence number only has to grow; unix time in nanoseconds keeps it growing across restarts too.
            var now = (ulong)(_options.TimeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
            _lastSeq = Math.Max(now, _lastSeq + 1);
            var envelope = new PeerRecord(_host.PeerId, _lastSeq, addresses).Seal(_identityKey).ToProtobuf();
            _signedRecord = ([.. addresses], envelope);
            return envelope;
        }
    }

    private CancellationTokenSource StartTimeout(CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        return timeout;
    }

    private void OnConnectionOpened(object? sender, IConnection connection)
    {
        var lifetime = _lifetime.Token;
        if (lifetime.IsCancellationRequested)
        {
            return;
        }

        Track(Task.Run(async () =>
        {
            try
            {
                await IdentifyAsync(connection, lifetime);
            }
            catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or ObjectDisposedException)
            {
                IdentifyLog.ExchangeFailed(_logger, "Identify on connect", connection.RemotePeer, ex.Message);
            }
        }));
    }

    /// <summary>Keeps <paramref name="task"/>, which must not fail, until it ends, so that disposing waits for it.</summary>
    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        task.ContinueWith(done => _background.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The pushes of one peer: the request the next push answers, null when none is waiting.</summary>
    private sealed class PeerPushes
    {
        public TaskCompletionSource<bool>? Next { get; set; }
    }
}
