using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

/// <summary>
/// The libp2p host: listens on its transports, upgrades every connection (security, muxer), keeps the connection
/// table, dispatches inbound streams to protocol handlers, and dials peers on demand.
/// </summary>
public sealed partial class Libp2pHost : IHost
{
    private readonly Upgrader _upgrader;
    private readonly AddressAdmission _addressAdmission;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, ProtocolHandler> _handlers = new(StringComparer.Ordinal);
    private readonly Lock _handlersSync = new();
    private readonly Lock _sync = new();
    private readonly Dictionary<PeerId, List<HostConnection>> _connections = [];
    private readonly Dictionary<PeerId, Task<HostConnection>> _pendingDials = [];
    private readonly List<ActiveListener> _listeners = [];
    private volatile string[] _protocols = [];
    private int _connectionCount;
    private int _pendingInboundUpgrades;
    private long _nextConnectionId;
    private bool _disposed;

    public Libp2pHost(HostOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<Libp2pHost>();
        PeerId = PeerId.FromPublicKey(options.Identity.GetPublicKey());
        PeerStore = options.PeerStore ?? new PeerStore(options.TimeProvider);
        Resources = new NodeResources(options.Limits, Counters);
        _upgrader = new Upgrader(options.Security, options.Muxers, Resources, _loggerFactory, options.PrivateNetwork);
        _addressAdmission = new AddressAdmission(options.Limits.PerAddress, options.TimeProvider);
        ConnectionManager = new ConnectionManager(this, options.ConnectionManager, _loggerFactory.CreateLogger<ConnectionManager>());
    }

    /// <inheritdoc />
    public PeerId PeerId { get; }

    /// <inheritdoc />
    public IPeerStore PeerStore { get; }

    /// <summary>Refusal counters (resource limits, gating, trimming).</summary>
    public HostCounters Counters { get; } = new();

    /// <summary>What all connections hold of the node-wide limits now (receive memory, streams).</summary>
    internal NodeResources Resources { get; }

    /// <summary>Receive memory reserved now over all connections (see <see cref="ResourceLimits.MaxReceiveMemory"/>).</summary>
    public long ReservedReceiveMemory => Resources.ReservedReceiveMemory;

    /// <summary>Streams open now over all connections (see <see cref="ResourceLimits.MaxStreams"/>).</summary>
    public int StreamCount => Resources.StreamCount;

    /// <summary>Watermark-based trimming and peer protection.</summary>
    public ConnectionManager ConnectionManager { get; }

    /// <inheritdoc />
    public IReadOnlyList<Multiaddr> ListenAddresses
    {
        get
        {
            lock (_sync)
            {
                return [.. _listeners.Select(active => active.Listener.ListenAddress)];
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Protocols => _protocols;

    /// <summary>Open connections in total.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    internal HostOptions Options { get; }

    internal TimeProvider TimeProvider => Options.TimeProvider;

    internal CancellationToken Stopping => _stopping.Token;

    /// <inheritdoc />
    public event EventHandler<IConnection>? ConnectionOpened;

    /// <inheritdoc />
    public event EventHandler<IConnection>? ConnectionClosed;

    /// <inheritdoc />
    public event EventHandler<LocalPeerChange>? LocalPeerChanged;

    /// <summary>Binds every configured listen address. Fails if any cannot be bound.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        foreach (var address in Options.ListenAddresses)
        {
            await ListenAsync(address, cancellationToken).ConfigureAwait(false);
        }

        ConnectionManager.Start();
    }

    /// <summary>Starts listening on one more address; returns the bound address.</summary>
    public async Task<Multiaddr> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var transport = Options.Transports.FirstOrDefault(t => t.CanListen(address))
            ?? throw new NotSupportedException($"no transport can listen on {address}");
        var listener = await transport.ListenAsync(address, cancellationToken).ConfigureAwait(false);
        var active = new ActiveListener(transport, listener);
        bool disposed;
        lock (_sync)
        {
            disposed = _disposed;
            if (!disposed)
            {
                _listeners.Add(active);
                active.AcceptLoop = AcceptConnectionsAsync(active);
            }
        }

        if (disposed)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            throw new ObjectDisposedException(GetType().FullName);
        }

        HostLog.Listening(_logger, listener.ListenAddress, PeerId);
        LocalPeerChanged?.Invoke(this, LocalPeerChange.ListenAddresses);
        return listener.ListenAddress;
    }

    /// <summary>Closes the listener bound to <paramref name="address"/> (as <see cref="ListenAddresses"/> gives it);
    /// connections it accepted stay open.</summary>
    /// <returns>Whether such a listener was open.</returns>
    public async Task<bool> StopListeningAsync(Multiaddr address)
    {
        ArgumentNullException.ThrowIfNull(address);
        ActiveListener? stopped;
        lock (_sync)
        {
            stopped = _listeners.Find(active => active.Listener.ListenAddress.Equals(address));
            if (stopped is null || _disposed)
            {
                return false;
            }

            _listeners.Remove(stopped);
        }

        await stopped.Listener.DisposeAsync().ConfigureAwait(false);
        await stopped.AcceptLoop.ConfigureAwait(false);
        HostLog.StoppedListening(_logger, address);
        LocalPeerChanged?.Invoke(this, LocalPeerChange.ListenAddresses);
        return true;
    }

    /// <inheritdoc />
    public void SetStreamHandler(string protocol, StreamHandler handler, StreamHandlerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        ArgumentNullException.ThrowIfNull(handler);
        var registration = new ProtocolHandler(handler, options ?? StreamHandlerOptions.Default);
        bool added;
        lock (_handlersSync)
        {
            added = !_handlers.ContainsKey(protocol);
            _handlers[protocol] = registration;
            RefreshProtocols();
        }

        if (added)
        {
            LocalPeerChanged?.Invoke(this, LocalPeerChange.Protocols);
        }
    }

    /// <inheritdoc />
    public void RemoveStreamHandler(string protocol)
    {
        bool removed;
        lock (_handlersSync)
        {
            removed = _handlers.TryRemove(protocol, out _);
            RefreshProtocols();
        }

        if (removed)
        {
            LocalPeerChanged?.Invoke(this, LocalPeerChange.Protocols);
        }
    }

    /// <inheritdoc />
    public async ValueTask<IConnection> ConnectAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.TryGetPeerId(out var peer))
        {
            if (peer == PeerId)
            {
                throw new InvalidOperationException("cannot dial ourselves");
            }

            if (TryGetConnection(peer) is { } existing)
            {
                return existing;
            }

            PeerStore.AddAddresses(peer, [address.WithoutPeerId()], PeerStoreTtl.TemporaryAddress);
            return await DialPeerAsync(peer, [address.WithoutPeerId()], cancellationToken).ConfigureAwait(false);
        }

        // No peer id: whoever answers is accepted (the handshake still authenticates them).
        return await DialAddressAsync(address, expectedPeer: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IConnection> ConnectAsync(PeerId peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (TryGetConnection(peer) is { } existing)
        {
            return existing;
        }

        var addresses = PeerStore.GetAddresses(peer);
        if (addresses.Count == 0)
        {
            throw new DialException(peer, $"no known addresses for {peer}", []);
        }

        return await DialPeerAsync(peer, addresses, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IStream> NewStreamAsync(PeerId peer, IReadOnlyList<string> protocols, CancellationToken cancellationToken = default)
    {
        var connection = await ConnectAsync(peer, cancellationToken).ConfigureAwait(false);
        return await connection.NewStreamAsync(protocols, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public IReadOnlyList<IConnection> GetConnections(PeerId? peer = null)
    {
        lock (_sync)
        {
            if (peer is not null)
            {
                return _connections.TryGetValue(peer, out var list) ? [.. list] : [];
            }

            return [.. _connections.Values.SelectMany(list => list)];
        }
    }

    /// <summary>Closes every connection to <paramref name="peer"/>.</summary>
    public async Task DisconnectAsync(PeerId peer, CancellationToken cancellationToken = default)
    {
        foreach (var connection in GetConnections(peer))
        {
            await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        List<ActiveListener> listeners;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            listeners = [.. _listeners];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await ConnectionManager.DisposeAsync().ConfigureAwait(false);
        foreach (var active in listeners)
        {
            await active.Listener.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(listeners.Select(active => active.AcceptLoop)).ConfigureAwait(false);
        using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        // Relayed connections first: each rides on a connection to its relay, which must outlive its graceful close.
        var connections = GetConnections();
        await Task.WhenAll(connections.Where(c => c.IsLimited).Select(c => CloseQuietlyAsync(c, closeTimeout.Token))).ConfigureAwait(false);
        await Task.WhenAll(connections.Where(c => !c.IsLimited).Select(c => CloseQuietlyAsync(c, closeTimeout.Token))).ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal bool TryGetHandler(string protocol, [NotNullWhen(true)] out ProtocolHandler? registration) =>
        _handlers.TryGetValue(protocol, out registration);

    /// <summary>Counts a refusal in its usual scope and logs why; refusals are rare, so formatting the reason eagerly
    /// is fine.</summary>
    internal void Refuse(Refusal refusal, string reason) => Refuse(refusal, UsualScope(refusal), reason);

    /// <summary>Counts a refusal in <paramref name="scope"/> and logs why.</summary>
    internal void Refuse(Refusal refusal, ResourceScope scope, string reason)
    {
        Counters.Increment(refusal, scope);
        if (scope is ResourceScope.Ip or ResourceScope.Subnet)
        {
            // An address over its share is usually flooding us: one line per refused socket would flood the log too.
            HostLog.RefusedAddress(_logger, refusal, scope, reason);
        }
        else
        {
            HostLog.Refused(_logger, refusal, scope, reason);
        }
    }

    private static ResourceScope UsualScope(Refusal refusal) => refusal switch
    {
        Refusal.PeerConnectionLimit => ResourceScope.Peer,
        Refusal.UpgradeFailed or Refusal.StreamNegotiationFailed or Refusal.ProtocolStreamLimit or Refusal.LimitedConnection => ResourceScope.Connection,
        _ => ResourceScope.Node,
    };

    private static async Task CloseQuietlyAsync(IConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>A listen address of <paramref name="transport"/> in the same IP family as <paramref name="target"/>, so
    /// that the dial leaves from the port we listen on (NAT mappings then match what peers see; hole punching).</summary>
    private Multiaddr? ListenAddressFor(ITransport transport, Multiaddr target)
    {
        var family = target.Components[0].Protocol;
        lock (_sync)
        {
            foreach (var active in _listeners)
            {
                if (ReferenceEquals(active.Transport, transport) && active.Listener.ListenAddress.Components[0].Protocol == family)
                {
                    return active.Listener.ListenAddress;
                }
            }
        }

        return null;
    }

    /// <summary>Recomputes <see cref="Protocols"/>; callers hold <see cref="_handlersSync"/>, so that concurrent
    /// changes cannot publish their snapshots out of order.</summary>
    private void RefreshProtocols() => _protocols = [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    private HostConnection? TryGetConnection(PeerId peer)
    {
        lock (_sync)
        {
            // Prefer a direct connection over a limited (relayed) one; skip one that closed but is not yet removed.
            return _connections.TryGetValue(peer, out var list)
                ? list.FirstOrDefault(c => !c.IsLimited && !c.Completion.IsCompleted) ?? list.FirstOrDefault(c => !c.Completion.IsCompleted)
                : null;
        }
    }

    private async Task AcceptConnectionsAsync(ActiveListener active)
    {
        // Leave ListenAsync (and its lock) before the first accept: a listener that fails at once removes itself below.
        await Task.Yield();
        var listener = active.Listener;
        try
        {
            while (await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false) is { } raw)
            {
                if (Options.Gater?.AllowAccept(raw.RemoteAddress) is { IsAllowed: false } denied)
                {
                    Refuse(Refusal.AcceptGated, $"connection from {raw.RemoteAddress}: {denied.Reason}");
                    raw.Abort();
                    continue;
                }

                if (ConnectionCount >= Options.Limits.MaxConnections)
                {
                    Refuse(Refusal.ConnectionLimit, $"connection from {raw.RemoteAddress}: {Options.Limits.MaxConnections} connections open");
                    raw.Abort();
                    continue;
                }

                // The address's share first: one address filling the node-wide handshake slots is the attack to stop.
                if (!_addressAdmission.TryAdmit(raw.RemoteAddress, out var ticket, out var overShare))
                {
                    Refuse(overShare.Refusal, overShare.Scope, $"connection from {raw.RemoteAddress}: {overShare.Reason}");
                    raw.Abort();
                    continue;
                }

                if (Interlocked.Increment(ref _pendingInboundUpgrades) > Options.Limits.MaxPendingInboundUpgrades)
                {
                    Interlocked.Decrement(ref _pendingInboundUpgrades);
                    ticket.Release();
                    Refuse(Refusal.PendingUpgradeLimit, $"connection from {raw.RemoteAddress}: {Options.Limits.MaxPendingInboundUpgrades} handshakes already in progress");
                    raw.Abort();
                    continue;
                }

                _ = UpgradeInboundAsync(raw, ticket);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            if (IsListening(active))
            {
                _logger.LogWarning(e, "listener {Address} stopped", listener.ListenAddress);
            }
        }

        // A listener that ended on its own (not stopped, not disposed with the host) no longer gives us an address.
        bool ended;
        lock (_sync)
        {
            ended = !_disposed && _listeners.Remove(active);
        }

        if (ended)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
            LocalPeerChanged?.Invoke(this, LocalPeerChange.ListenAddresses);
        }
    }

    private bool IsListening(ActiveListener active)
    {
        lock (_sync)
        {
            return !_disposed && _listeners.Contains(active);
        }
    }

    private async Task UpgradeInboundAsync(ITransportConnection raw, AddressTicket ticket)
    {
        HostConnection? connection = null;
        try
        {
            connection = await UpgradeAndRegisterAsync(raw, expectedPeer: null, _stopping.Token).ConfigureAwait(false);
            ticket.Upgraded();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Refuse(Refusal.UpgradeFailed, $"inbound connection from {raw.RemoteAddress} failed to upgrade: {e.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _pendingInboundUpgrades);
            if (connection is null)
            {
                ticket.Release();
            }
        }

        if (connection is not null)
        {
            // The connection holds its address's share until it closes (however: ObserveClosingAsync logs how).
            await connection.Completion.ContinueWith(_ => ticket.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    private async Task<HostConnection> DialAddressAsync(Multiaddr address, PeerId? expectedPeer, CancellationToken cancellationToken)
    {
        if (Options.Gater?.AllowDial(expectedPeer, address) is { IsAllowed: false } denied)
        {
            Refuse(Refusal.DialGated, $"dial to {address}: {denied.Reason}");
            throw new DialException(expectedPeer, $"dial to {address} denied by the connection gater: {denied.Reason}", []);
        }

        var transport = Options.Transports.FirstOrDefault(t => t.CanDial(address))
            ?? throw new DialException(expectedPeer, $"no transport can dial {address}", []);
        var dialOptions = new TransportDialOptions { Peer = expectedPeer, Timeout = Options.DialTimeout, LocalAddress = Options.DialFromListenPort ? ListenAddressFor(transport, address) : null };
        var raw = await transport.DialAsync(address, dialOptions, cancellationToken).ConfigureAwait(false);
        return await UpgradeAndRegisterAsync(raw, expectedPeer, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HostConnection> UpgradeAndRegisterAsync(ITransportConnection raw, PeerId? expectedPeer, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        timeout.CancelAfter(Options.UpgradeTimeout);
        var upgrade = await _upgrader.UpgradeAsync(raw, expectedPeer, AuthorizeSecured, timeout.Token).ConfigureAwait(false);

        void AuthorizeSecured(SecuredChannel secured)
        {
            if (secured.RemotePeer == PeerId)
            {
                throw new IOException("the remote proved our own identity");
            }

            if (Options.Gater?.AllowSecured(raw.Direction, secured.RemotePeer, raw.RemoteAddress) is { IsAllowed: false } denied)
            {
                Refuse(raw.Direction == Direction.Inbound ? Refusal.AcceptGated : Refusal.DialGated, $"peer {secured.RemotePeer} at {raw.RemoteAddress}: {denied.Reason}");
                throw new IOException($"peer {secured.RemotePeer} is denied by the connection gater: {denied.Reason}");
            }
        }

        var id = $"c{Interlocked.Increment(ref _nextConnectionId)}";
        var connection = new HostConnection(id, this, raw, upgrade, isLimited: raw.RemoteAddress.IsRelayed, _loggerFactory.CreateLogger<HostConnection>());
        if (!TryRegister(connection, out var refusal))
        {
            Refuse(refusal, $"{connection}: over the connection limits");
            await upgrade.Muxed.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"connection to {connection.RemotePeer} refused: {refusal}");
        }

        PeerStore.AddPublicKey(connection.RemotePeer, connection.RemotePublicKey);
        PeerStore.MarkConnected(connection.RemotePeer, true);
        if (connection.Direction == Direction.Outbound)
        {
            PeerStore.AddAddresses(connection.RemotePeer, [raw.RemoteAddress], PeerStoreTtl.ConnectedAddress);
        }

        connection.Start();
        _ = ObserveClosingAsync(connection);
        HostLog.ConnectionOpened(_logger, connection.Id, connection.Direction, connection.RemotePeer, connection.RemoteAddress, connection.Security, connection.Muxer);
        ConnectionOpened?.Invoke(this, connection);
        ConnectionManager.OnConnectionOpened();
        return connection;
    }

    private bool TryRegister(HostConnection connection, out Refusal refusal)
    {
        lock (_sync)
        {
            if (_disposed || _connectionCount >= Options.Limits.MaxConnections)
            {
                refusal = Refusal.ConnectionLimit;
                return false;
            }

            if (!_connections.TryGetValue(connection.RemotePeer, out var list))
            {
                list = [];
                _connections[connection.RemotePeer] = list;
            }

            if (list.Count >= Options.Limits.MaxConnectionsPerPeer)
            {
                refusal = Refusal.PeerConnectionLimit;
                return false;
            }

            list.Add(connection);
            _connectionCount++;
            refusal = default;
            return true;
        }
    }

    private async Task ObserveClosingAsync(HostConnection connection)
    {
        try
        {
            await connection.Completion.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            HostLog.ConnectionFailed(_logger, connection.Id, e);
        }

        bool lastToPeer;
        lock (_sync)
        {
            if (_connections.TryGetValue(connection.RemotePeer, out var list) && list.Remove(connection))
            {
                _connectionCount--;
            }

            lastToPeer = list is null || list.Count == 0;
            if (lastToPeer)
            {
                _connections.Remove(connection.RemotePeer);
            }
        }

        if (lastToPeer)
        {
            PeerStore.MarkConnected(connection.RemotePeer, false);
        }

        connection.Dispose();
        HostLog.ConnectionClosed(_logger, connection.Id, connection.RemotePeer);
        ConnectionClosed?.Invoke(this, connection);
    }

}

/// <summary>An open listener, the transport it belongs to, and the loop accepting its connections.</summary>
internal sealed class ActiveListener(ITransport transport, ITransportListener listener)
{
    public ITransport Transport { get; } = transport;

    public ITransportListener Listener { get; } = listener;

    public Task AcceptLoop { get; set; } = Task.CompletedTask;
}

/// <summary>A protocol handler and its options.</summary>
internal sealed record ProtocolHandler(StreamHandler Handler, StreamHandlerOptions Options);
