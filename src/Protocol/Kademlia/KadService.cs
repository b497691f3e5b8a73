using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>
/// A node's Kademlia DHT (libp2p/specs <c>kad-dht/README.md</c>): serves FIND_NODE, GET_VALUE, PUT_VALUE,
/// ADD_PROVIDER, GET_PROVIDERS and PING in server mode, keeps the routing table (DHT servers only, learned from
/// identify and from peers that answer us), and runs the iterative lookups behind <see cref="FindPeerAsync"/>,
/// <see cref="GetValueAsync"/>, <see cref="PutValueAsync"/>, <see cref="ProvideAsync"/> and
/// <see cref="FindProvidersAsync"/>.
/// </summary>
public sealed class KadService : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly KadOptions _options;
    private readonly IKadStore _store;
    private readonly IRecordValidator _validator;
    private readonly IdentifyService? _identify;
    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly Lock _modeLock = new();
    private HandlerRegistration? _handler;
    private ITimer? _refreshTimer;
    private int _disposed;

    /// <summary>Creates the service; in server mode its handler is registered at once. Call <see cref="StartAsync"/>
    /// to load stored peers, bootstrap and start refreshing.</summary>
    /// <param name="host">The host to serve and query on.</param>
    /// <param name="options">Protocol id, mode, k, α, timeouts; <see cref="KadOptions.Default"/> when null.</param>
    /// <param name="store">Records, providers and routing table peers; in memory when null.</param>
    /// <param name="validator">Record validation by namespace; <see cref="NamespacedValidator.Default"/> when null.</param>
    /// <param name="identify">When given, peers that identify as DHT servers enter the routing table, and leave it
    /// when they stop announcing the protocol.</param>
    /// <param name="logger">Where refusals and failures are reported.</param>
    public KadService(
        IHost host, KadOptions? options = null, IKadStore? store = null, IRecordValidator? validator = null, IdentifyService? identify = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _options = options ?? KadOptions.Default;
        _store = store ?? new MemoryKadStore();
        _validator = validator ?? NamespacedValidator.Default;
        _identify = identify;
        _logger = logger ?? NullLogger.Instance;
        _clock = _options.TimeProvider;
        RoutingTable = new RoutingTable(host.PeerId, _options);
        RoutingTable.PeerAdded += OnPeerAdded;
        RoutingTable.PeerRemoved += OnPeerRemoved;
        if (identify is not null)
        {
            identify.PeerIdentified += OnPeerIdentified;
        }

        SetMode(_options.Mode);
    }

    /// <summary>The routing table.</summary>
    public RoutingTable RoutingTable { get; }

    /// <summary>What was served, sent and refused.</summary>
    public KadCounters Counters { get; } = new();

    /// <summary>The mode in effect (<see cref="KadMode.Auto"/> resolved).</summary>
    public KadMode EffectiveMode { get; private set; }

    /// <summary>The protocol id spoken.</summary>
    public string ProtocolId => _options.ProtocolId;

    /// <summary>
    /// Switches between server and client: registers or removes the handler, which changes the host's protocols, so
    /// that identify pushes the change to connected peers.
    /// </summary>
    public void SetMode(KadMode mode)
    {
        var effective = mode == KadMode.Auto ? _options.AutoModeFallback : mode;
        lock (_modeLock)
        {
            EffectiveMode = effective;
            if (effective == KadMode.Server && _handler is null)
            {
                _handler = HandlerRegistration.ForSession(_host, _options.ProtocolId, ServeStreamAsync, StreamHandlerOptions.Default, _logger);
            }
            else if (effective != KadMode.Server && _handler is not null)
            {
                _handler.Dispose();
                _handler = null;
            }
        }
    }

    /// <summary>
    /// Joins the network: loads the routing table peers saved by an earlier run, then bootstraps from them and from
    /// <paramref name="bootstrapPeers"/> (retrying with backoff in the background while none answers), and starts the
    /// periodic refresh of stale buckets.
    /// </summary>
    public async Task StartAsync(IReadOnlyList<Multiaddr> bootstrapPeers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bootstrapPeers);
        var seeds = new List<PeerId>();
        foreach (var stored in await _store.LoadPeersAsync(cancellationToken))
        {
            _host.PeerStore.AddAddresses(stored.Peer, stored.Addresses, _options.LearnedAddressTtl);
            seeds.Add(stored.Peer);
        }

        foreach (var address in bootstrapPeers)
        {
            if (address.Components.Length > 0 && address.Components[^1].Protocol == MultiaddrProtocol.P2p)
            {
                var peer = PeerId.FromBytes(address.Components[^1].Value.Span);
                _host.PeerStore.AddAddresses(peer, [address.WithoutPeerId()], _options.LearnedAddressTtl);
                seeds.Add(peer);
            }
        }

        var answered = await BootstrapAsync(seeds, cancellationToken);
        if (answered == 0 && seeds.Count > 0)
        {
            Track(RetryBootstrapAsync(seeds, _lifetime.Token));
        }

        _refreshTimer = _clock.CreateTimer(
            static state => ((KadService)state!).Track(((KadService)state!).RefreshAsync(((KadService)state!)._lifetime.Token)),
            this,
            _options.RefreshInterval,
            _options.RefreshInterval);
    }

    /// <summary>One bootstrap round: a lookup of our own id seeded with <paramref name="seeds"/> (as well as the
    /// routing table), which fills the table with the peers closest to us. Returns how many peers answered.</summary>
    public async Task<int> BootstrapAsync(IReadOnlyList<PeerId> seeds, CancellationToken cancellationToken = default)
    {
        var outcome = await LookupAsync(_host.PeerId.ToBytes(), KadMessageType.FindNode, seeds, step: null, cancellationToken);
        KadLog.Bootstrapped(_logger, outcome.Requests - outcome.Failures, outcome.Requests, RoutingTable.Count);
        return outcome.Requests - outcome.Failures;
    }

    /// <summary>The k peers closest to <paramref name="key"/> (a DHT key: peer id bytes, multihash, record key), by
    /// an iterative FIND_NODE lookup.</summary>
    public Task<LookupOutcome> FindClosestPeersAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default) =>
        LookupAsync(key, KadMessageType.FindNode, [], step: null, cancellationToken);

    /// <summary>The addresses of <paramref name="peer"/>: the peer store's when connected, otherwise found by a lookup
    /// that stops at the first answer naming the peer. Empty when it was not found.</summary>
    public async Task<IReadOnlyList<Multiaddr>> FindPeerAsync(PeerId peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (_host.GetConnections(peer).Count > 0)
        {
            return _host.PeerStore.GetAddresses(peer);
        }

        IReadOnlyList<Multiaddr> found = [];
        await LookupAsync(peer.ToBytes(), KadMessageType.FindNode, [], (_, response, closer) =>
        {
            foreach (var candidate in response.CloserPeers)
            {
                if (candidate.Id.Span.SequenceEqual(peer.Bytes) && candidate.Addresses.Count > 0)
                {
                    found = _host.PeerStore.GetAddresses(peer);
                    return found.Count > 0;
                }
            }

            return false;
        }, cancellationToken);
        return found;
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> locally and at the k closest peers.
    /// Returns how many of them accepted it.</summary>
    /// <exception cref="RecordValidationException">The record is not valid for its namespace.</exception>
    public async Task<int> PutValueAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        _validator.Validate(key.Span, value.Span);
        var now = _clock.GetUtcNow();
        await _store.PutRecordAsync(new StoredRecord(key.ToArray(), value.ToArray(), now, now + _options.RecordTtl), cancellationToken);
        var closest = await FindClosestPeersAsync(key, cancellationToken);
        var request = new KadMessage { Type = KadMessageType.PutValue, Key = key, Record = new KadRecord { Key = key, Value = value } };
        var results = await Task.WhenAll(closest.Closest.Select(peer => TrySendAsync(peer, request, expectResponse: true, cancellationToken)));
        return results.Count(ok => ok);
    }

    /// <summary>
    /// The best value of <paramref name="key"/>: our own copy and those of up to <see cref="KadOptions.GetValueQuorum"/>
    /// peers found by a GET_VALUE lookup, each validated, the best chosen by the namespace's selector. Peers that
    /// answered with an older value are sent the best one (correction). Null when nobody had a valid value.
    /// </summary>
    public async Task<byte[]?> GetValueAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var values = new List<(PeerId? Holder, ReadOnlyMemory<byte> Value)>();
        if (await _store.GetRecordAsync(key, _clock.GetUtcNow(), cancellationToken) is { } local)
        {
            values.Add((null, local.Value));
        }

        var gate = new Lock();
        await LookupAsync(key, KadMessageType.GetValue, [], (peer, response, _) =>
        {
            if (response.Record is not { } record || !record.Key.Span.SequenceEqual(key.Span))
            {
                return false;
            }

            try
            {
                _validator.Validate(key.Span, record.Value.Span);
            }
            catch (RecordValidationException ex)
            {
                Counters.RecordRefused();
                KadLog.RecordRefused(_logger, peer, ex.Message);
                return false;
            }

            lock (gate)
            {
                values.Add((peer, record.Value));
                return values.Count(v => v.Holder is not null) >= _options.GetValueQuorum;
            }
        }, cancellationToken);

        if (values.Count == 0)
        {
            return null;
        }

        var best = values[_validator.Select(key.Span, [.. values.Select(v => v.Value)])].Value;
        var correction = new KadMessage { Type = KadMessageType.PutValue, Key = key, Record = new KadRecord { Key = key, Value = best } };
        var stale = values.Where(v => !v.Value.Span.SequenceEqual(best.Span)).ToList();
        await Task.WhenAll(stale.Where(v => v.Holder is not null).Select(v => TrySendAsync(v.Holder!, correction, expectResponse: true, cancellationToken)));
        if (stale.Any(v => v.Holder is null))
        {
            var now = _clock.GetUtcNow();
            await _store.PutRecordAsync(new StoredRecord(key.ToArray(), best.ToArray(), now, now + _options.RecordTtl), cancellationToken);
        }

        return best.ToArray();
    }

    /// <summary>Announces us as a provider of <paramref name="key"/> (a multihash) to the k closest peers, with our
    /// addresses, and records it locally. Returns how many peers were sent the announcement.</summary>
    public async Task<int> ProvideAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
    {
        var addresses = _host.ListenAddresses;
        await _store.AddProviderAsync(key, new ProviderEntry(_host.PeerId, addresses, _clock.GetUtcNow() + _options.ProviderTtl), cancellationToken);
        var closest = await FindClosestPeersAsync(key, cancellationToken);
        var announcement = new KadMessage
        {
            Type = KadMessageType.AddProvider,
            Key = key,
            ProviderPeers = [ToKadPeer(_host.PeerId, addresses)],
        };
        var results = await Task.WhenAll(closest.Closest.Select(peer => TrySendAsync(peer, announcement, expectResponse: false, cancellationToken)));
        return results.Count(ok => ok);
    }

    /// <summary>
    /// Providers of <paramref name="key"/> (a multihash), streamed as they are found: our own records first, then
    /// those of the peers a GET_PROVIDERS lookup reaches, each provider once, until <paramref name="limit"/> were
    /// found or the lookup ends.
    /// </summary>
    public async IAsyncEnumerable<ProviderEntry> FindProvidersAsync(
        ReadOnlyMemory<byte> key, int limit = 20, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var seen = new HashSet<PeerId>();
        var found = Channel.CreateUnbounded<ProviderEntry>();
        foreach (var local in await _store.GetProvidersAsync(key, _clock.GetUtcNow(), limit, cancellationToken))
        {
            if (seen.Add(local.Provider))
            {
                found.Writer.TryWrite(local);
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var gate = new Lock();
        var lookup = seen.Count >= limit
            ? Task.CompletedTask
            : LookupAsync(key, KadMessageType.GetProviders, [], (_, response, _) =>
            {
                foreach (var provider in response.ProviderPeers)
                {
                    if (ToPeer(provider, out var peer, out var addresses))
                    {
                        lock (gate)
                        {
                            if (seen.Count < limit && seen.Add(peer))
                            {
                                found.Writer.TryWrite(new ProviderEntry(peer, addresses, _clock.GetUtcNow() + _options.ProviderTtl));
                            }
                        }
                    }
                }

                lock (gate)
                {
                    return seen.Count >= limit;
                }
            }, stop.Token);
        _ = lookup.ContinueWith(static (task, writer) => ((ChannelWriter<ProviderEntry>)writer!).TryComplete(task.Exception), found.Writer, TaskScheduler.Default);
        try
        {
            await foreach (var provider in found.Reader.ReadAllAsync(cancellationToken))
            {
                yield return provider;
            }
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_identify is not null)
        {
            _identify.PeerIdentified -= OnPeerIdentified;
        }

        if (_refreshTimer is not null)
        {
            await _refreshTimer.DisposeAsync();
        }

        lock (_modeLock)
        {
            _handler?.Dispose();
            _handler = null;
        }

        await _lifetime.CancelAsync();
        try
        {
            await Task.WhenAll(_background.Keys);
        }
        catch (OperationCanceledException)
        {
        }

        _lifetime.Dispose();
    }

    // ---- lookups ----

    /// <summary>An iterative lookup of <paramref name="key"/> with requests of <paramref name="type"/>. Each answer's
    /// closer peers feed the lookup; <paramref name="step"/> sees each answer (with the closer peers accepted) and
    /// says whether to stop.</summary>
    private async Task<LookupOutcome> LookupAsync(
        ReadOnlyMemory<byte> key,
        KadMessageType type,
        IReadOnlyList<PeerId> extraSeeds,
        Func<PeerId, KadMessage, IReadOnlyList<PeerId>, bool>? step,
        CancellationToken cancellationToken)
    {
        var target = KadKey.FromKeyBytes(key.Span);
        using var deadline = new CancellationTokenSource(_options.QueryTimeout, _clock);
        var request = new KadMessage { Type = type, Key = key };
        var seeds = RoutingTable.NearestPeers(target, _options.BucketSize).Concat(extraSeeds);
        var outcome = await KadLookup.RunAsync(
            target,
            seeds,
            _host.PeerId,
            async (peer, token) =>
            {
                var response = (await SendAsync(peer, request, expectResponse: true, token))!;
                var closer = AcceptCloserPeers(response);
                return new LookupStep(closer, step?.Invoke(peer, response, closer) ?? false);
            },
            _options.BucketSize,
            _options.Alpha,
            deadline.Token,
            cancellationToken);
        RoutingTable.MarkBucketRefreshed(target, _clock.GetUtcNow());
        return outcome;
    }

    /// <summary>The closer peers of an answer that can be used: valid ids (not ours) with decodable addresses, which
    /// go into the peer store for dialling. The rest is dropped and counted.</summary>
    private List<PeerId> AcceptCloserPeers(KadMessage response)
    {
        var accepted = new List<PeerId>();
        foreach (var candidate in response.CloserPeers.Take(_options.BucketSize))
        {
            if (ToPeer(candidate, out var peer, out var addresses) && peer != _host.PeerId)
            {
                accepted.Add(peer);
            }
            else
            {
                Counters.JunkPeerDropped(1);
            }
        }

        if (response.CloserPeers.Count > _options.BucketSize)
        {
            // More than k closer peers is not an answer to the question; the excess is not looked at.
            Counters.JunkPeerDropped(response.CloserPeers.Count - _options.BucketSize);
        }

        return accepted;
    }

    /// <summary>Decodes a wire peer and records its addresses; false for an undecodable id or no usable address
    /// (none given and none known).</summary>
    private bool ToPeer(KadPeer wire, out PeerId peer, out IReadOnlyList<Multiaddr> addresses)
    {
        peer = null!;
        addresses = [];
        try
        {
            peer = PeerId.FromBytes(wire.Id.Span);
        }
        catch (Exception ex) when (ex is WireFormatException or ArgumentException or FormatException)
        {
            return false;
        }

        var decoded = new List<Multiaddr>();
        foreach (var bytes in wire.Addresses)
        {
            if (Multiaddr.TryDecode(bytes.Span, out var address))
            {
                decoded.Add(address.WithoutPeerId());
            }
        }

        if (decoded.Count > 0 && peer != _host.PeerId)
        {
            _host.PeerStore.AddAddresses(peer, decoded, _options.LearnedAddressTtl);
        }

        addresses = decoded.Count > 0 ? decoded : _host.PeerStore.GetAddresses(peer);
        return addresses.Count > 0 || _host.GetConnections(peer).Count > 0;
    }

    private async Task<bool> TrySendAsync(PeerId peer, KadMessage request, bool expectResponse, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(peer, request, expectResponse, cancellationToken);
            return true;
        }
        catch (ProtocolRequestException)
        {
            return false;
        }
    }

    /// <summary>
    /// One request on a new stream, bounded by <see cref="KadOptions.RequestTimeout"/> (dial included); ADD_PROVIDER,
    /// which has no answer, is written and the stream closed. A peer that answers joins the routing table (it serves
    /// the protocol, so it is a DHT server); a routing table peer that fails is evicted.
    /// </summary>
    /// <exception cref="ProtocolRequestException">The request failed; <see cref="ProtocolRequestException.Failure"/> says how.</exception>
    private async Task<KadMessage?> SendAsync(PeerId peer, KadMessage request, bool expectResponse, CancellationToken cancellationToken)
    {
        KadCodec.ThrowIfOverBounds(request);
        Counters.RequestSent();
        try
        {
            KadMessage? response = null;
            if (expectResponse)
            {
                response = await RequestResponse.SendAsync(
                    _host, peer, [_options.ProtocolId], request, KadMessageCodec.Instance, KadMessageCodec.Instance, _options.RequestTimeout, _clock, cancellationToken);
                if (response.Type != request.Type)
                {
                    throw new ProtocolRequestException(RequestFailure.ProtocolViolation, $"asked {peer} {request.Type}, it answered {response.Type}");
                }
            }
            else
            {
                await SendOneWayAsync(peer, request, cancellationToken);
            }

            RoutingTable.TryAdd(peer, _host.PeerStore.GetAddresses(peer), _clock.GetUtcNow());
            return response;
        }
        catch (ProtocolRequestException ex)
        {
            Counters.RequestFailed();
            KadLog.RequestFailed(_logger, request.Type, peer, ex.Message);
            if (RoutingTable.Remove(peer))
            {
                Counters.PeerEvicted();
            }

            throw;
        }
    }

    /// <summary>Writes a request that has no answer (ADD_PROVIDER) on a new stream and half-closes it, within
    /// <see cref="KadOptions.RequestTimeout"/>.</summary>
    private async Task SendOneWayAsync(PeerId peer, KadMessage request, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.RequestTimeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            var stream = await _host.NewStreamAsync(peer, [_options.ProtocolId], linked.Token);
            await using (stream)
            {
                try
                {
                    await LengthPrefixedMessages.WriteAsync(stream.Output, request, KadMessageCodec.Instance, linked.Token);
                    await stream.CloseWriteAsync(linked.Token);
                }
                catch
                {
                    stream.Reset();
                    throw;
                }
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProtocolRequestException(RequestFailure.Timeout, $"{request.Type} to {peer}: not sent within {_options.RequestTimeout}", ex);
        }
        catch (Exception ex) when (ex is IOException and not ProtocolRequestException or InvalidOperationException)
        {
            throw new ProtocolRequestException(RequestFailure.StreamFailed, $"{request.Type} to {peer}: {ex.Message}", ex);
        }
    }

    // ---- serving ----

    /// <summary>Serves one inbound stream: requests one after another (the spec allows several per stream), until
    /// the remote half-closes or stays idle for <see cref="KadOptions.StreamIdleTimeout"/>.</summary>
    private async ValueTask ServeStreamAsync(IStream stream, CancellationToken cancellationToken)
    {
        var remote = stream.Connection.RemotePeer;
        while (true)
        {
            KadMessage? request;
            using (var idle = new CancellationTokenSource(_options.StreamIdleTimeout, _clock))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, cancellationToken))
            {
                try
                {
                    (_, request) = await LengthPrefixedMessages.ReadAsync(stream.Input, KadMessageCodec.Instance, linked.Token);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    Counters.IdleStreamClosed();
                    KadLog.IdleStreamClosed(_logger, remote, _options.StreamIdleTimeout);
                    return;
                }
                catch (WireFormatException)
                {
                    Counters.MalformedRequest();
                    throw;
                }
            }

            if (request is null)
            {
                return;
            }

            var response = await HandleAsync(remote, request, cancellationToken);
            Counters.RequestServed();
            if (response is not null)
            {
                KadCodec.ThrowIfOverBounds(response);
                await LengthPrefixedMessages.WriteAsync(stream.Output, response, KadMessageCodec.Instance, cancellationToken);
            }
        }
    }

    /// <summary>Answers one request (null for ADD_PROVIDER, which has no answer).</summary>
    /// <exception cref="WireFormatException">An unknown request type, or a record that is refused (go resets the
    /// stream in both cases, which is what the caller does with this).</exception>
    private async ValueTask<KadMessage?> HandleAsync(PeerId remote, KadMessage request, CancellationToken cancellationToken)
    {
        switch (request.Type)
        {
            case KadMessageType.Ping:
                return new KadMessage { Type = KadMessageType.Ping };
            case KadMessageType.FindNode:
                return request with { Record = null, ProviderPeers = [], CloserPeers = CloserPeersFor(request.Key, remote), ClusterLevelRaw = KadMessage.GoClusterLevelRaw };
            case KadMessageType.GetValue:
            {
                var record = await _store.GetRecordAsync(request.Key, _clock.GetUtcNow(), cancellationToken);
                return new KadMessage
                {
                    Type = KadMessageType.GetValue,
                    Key = request.Key,
                    Record = record is null ? null : new KadRecord { Key = record.Key, Value = record.Value, TimeReceived = record.Received.ToString("o") },
                    CloserPeers = CloserPeersFor(request.Key, remote),
                };
            }

            case KadMessageType.PutValue:
                await StoreRecordAsync(remote, request, cancellationToken);
                return request;
            case KadMessageType.GetProviders:
            {
                var providers = await _store.GetProvidersAsync(request.Key, _clock.GetUtcNow(), _options.BucketSize, cancellationToken);
                return new KadMessage
                {
                    Type = KadMessageType.GetProviders,
                    Key = request.Key,
                    ProviderPeers = [.. providers.Select(p => ToKadPeer(p.Provider, p.Addresses))],
                    CloserPeers = CloserPeersFor(request.Key, remote),
                };
            }

            case KadMessageType.AddProvider:
                await AddProvidersAsync(remote, request, cancellationToken);
                return null;
            default:
                Counters.MalformedRequest();
                throw new WireFormatException($"unknown kad message type {(int)request.Type}");
        }
    }

    private async ValueTask StoreRecordAsync(PeerId remote, KadMessage request, CancellationToken cancellationToken)
    {
        var refusal = await TryStoreRecordAsync(request, cancellationToken);
        if (refusal is not null)
        {
            Counters.RecordRefused();
            KadLog.RecordRefused(_logger, remote, refusal);
            throw new WireFormatException($"PUT_VALUE refused: {refusal}");
        }
    }

    /// <summary>Validates and stores a PUT_VALUE record; returns why it was refused, or null.</summary>
    private async ValueTask<string?> TryStoreRecordAsync(KadMessage request, CancellationToken cancellationToken)
    {
        if (request.Record is not { } record)
        {
            return "no record";
        }

        if (!record.Key.Span.SequenceEqual(request.Key.Span))
        {
            return "the record's key is not the message's key";
        }

        try
        {
            _validator.Validate(record.Key.Span, record.Value.Span);
            var now = _clock.GetUtcNow();
            if (await _store.GetRecordAsync(record.Key, now, cancellationToken) is { } existing
                && !existing.Value.AsSpan().SequenceEqual(record.Value.Span)
                && _validator.Select(record.Key.Span, [record.Value, existing.Value]) != 0)
            {
                return "the record held is better than the one sent";
            }

            var refusal = await _store.PutRecordAsync(new StoredRecord(record.Key.ToArray(), record.Value.ToArray(), now, now + _options.RecordTtl), cancellationToken);
            return refusal == StoreRefusal.None ? null : refusal.ToString();
        }
        catch (RecordValidationException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Stores the ADD_PROVIDER entries that are the sender itself with addresses (the spec: a peer may only
    /// announce itself; go-libp2p-kad-dht drops entries without addresses). Each refusal is counted.</summary>
    private async ValueTask AddProvidersAsync(PeerId remote, KadMessage request, CancellationToken cancellationToken)
    {
        foreach (var provider in request.ProviderPeers)
        {
            string? refusal = null;
            if (!provider.Id.Span.SequenceEqual(remote.Bytes))
            {
                refusal = "it names another peer than the sender";
            }
            else
            {
                var addresses = provider.Addresses.Select(a => Multiaddr.TryDecode(a.Span, out var m) ? m.WithoutPeerId() : null).OfType<Multiaddr>().ToList();
                if (addresses.Count == 0)
                {
                    refusal = "it carries no address";
                }
                else
                {
                    var entry = new ProviderEntry(remote, addresses, _clock.GetUtcNow() + _options.ProviderTtl);
                    var stored = await _store.AddProviderAsync(request.Key, entry, cancellationToken);
                    refusal = stored == StoreRefusal.None ? null : stored.ToString();
                }
            }

            if (refusal is not null)
            {
                Counters.ProviderRefused();
                KadLog.ProviderRefused(_logger, remote, refusal);
            }
        }
    }

    /// <summary>The k routing table peers closest to <paramref name="key"/>, without the requester.</summary>
    private List<KadPeer> CloserPeersFor(ReadOnlyMemory<byte> key, PeerId requester) =>
        [.. RoutingTable.NearestPeers(KadKey.FromKeyBytes(key.Span), _options.BucketSize + 1)
            .Where(peer => peer != requester)
            .Take(_options.BucketSize)
            .Select(peer => ToKadPeer(peer, _host.PeerStore.GetAddresses(peer)))];

    private KadPeer ToKadPeer(PeerId peer, IReadOnlyList<Multiaddr> addresses) => new()
    {
        Id = peer.ToBytes(),
        Addresses = [.. addresses.Take(KadCodec.MaxAddressesPerPeer).Select(a => (ReadOnlyMemory<byte>)a.ToBytes())],
        Connection = _host.GetConnections(peer).Count > 0 ? KadConnectionType.Connected : KadConnectionType.NotConnected,
    };

    // ---- routing table upkeep ----

    private void OnPeerIdentified(object? sender, IdentifyResult result)
    {
        if (result.Protocols.Contains(_options.ProtocolId, StringComparer.Ordinal))
        {
            RoutingTable.TryAdd(result.Peer, _host.PeerStore.GetAddresses(result.Peer), _clock.GetUtcNow());
        }
        else if (RoutingTable.Remove(result.Peer))
        {
            // It no longer serves the DHT (switched to client mode): not a peer to route through.
            Counters.PeerEvicted();
        }
    }

    private void OnPeerAdded(object? sender, RoutingTableEntry entry) =>
        Track(_store.SavePeerAsync(new StoredPeer(entry.Peer, _host.PeerStore.GetAddresses(entry.Peer), entry.LastSeen)).AsTask());

    private void OnPeerRemoved(object? sender, PeerId peer) => Track(_store.RemovePeerAsync(peer).AsTask());

    private async Task RetryBootstrapAsync(IReadOnlyList<PeerId> seeds, CancellationToken cancellationToken)
    {
        var delay = _options.BootstrapRetryDelay;
        while (!cancellationToken.IsCancellationRequested && RoutingTable.Count == 0)
        {
            KadLog.BootstrapRetry(_logger, delay);
            await Task.Delay(delay, _clock, cancellationToken);
            if (await BootstrapAsync(seeds, cancellationToken) > 0)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.RefreshInterval.Ticks));
        }
    }

    /// <summary>Looks up our own id, then a random key in each stale bucket (spec "Bootstrap process": refresh by
    /// random walks).</summary>
    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await LookupAsync(_host.PeerId.ToBytes(), KadMessageType.FindNode, [], step: null, cancellationToken);
        foreach (var bucket in RoutingTable.StaleBuckets(_clock.GetUtcNow() - _options.RefreshInterval))
        {
            await LookupAsync(RandomKeyInBucket(bucket), KadMessageType.FindNode, [], step: null, cancellationToken);
        }
    }

    /// <summary>Random key bytes whose keyspace point falls in bucket <paramref name="bucket"/> (shares exactly that
    /// many leading bits with us). Servers hash the key they are asked about, so the point cannot be chosen
    /// directly: this tries random keys, about 2^(bucket+1) of them; <see cref="RoutingTable.StaleBuckets"/> only
    /// names the first 16 buckets.</summary>
    private byte[] RandomKeyInBucket(int bucket)
    {
        var key = new byte[32];
        do
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(key);
        }
        while (RoutingTable.SelfKey.CommonPrefixLength(KadKey.FromKeyBytes(key)) != bucket);
        return key;
    }

    private void LogBackgroundFailure(AggregateException? failure)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var reason = failure?.GetBaseException().Message ?? "unknown";
            KadLog.BackgroundFailed(_logger, "task", reason);
        }
    }

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);
        task.ContinueWith(
            static (t, state) =>
            {
                var service = (KadService)state!;
                service._background.TryRemove(t, out _);
                if (t.IsFaulted)
                {
                    service.LogBackgroundFailure(t.Exception);
                }
            },
            this,
            TaskScheduler.Default);
    }
}
