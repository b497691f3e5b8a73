using System.Collections.Concurrent;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>
/// A host with no transports: <see cref="Connect"/> links two of them with a <see cref="FakeConnection"/> pair whose
/// streams are <see cref="InMemoryStream"/>s. Inbound streams run the registered handler on the thread pool and are
/// disposed when it ends, as the real host does; handler exceptions are kept in <see cref="HandlerFailures"/>.
/// </summary>
public sealed class FakeHost : IHost
{
    private readonly Lock _lock = new();
    private readonly List<(string Protocol, StreamHandler Handler, StreamHandlerOptions Options)> _handlers = [];
    private readonly List<FakeConnection> _connections = [];
    private readonly ConcurrentDictionary<Task, byte> _handlerTasks = new();
    private readonly CancellationTokenSource _lifetime = new();
    private IReadOnlyList<Multiaddr> _listenAddresses;
    private int _nextConnection;

    public FakeHost(PrivateKey? key = null, params string[] listenAddresses)
    {
        Key = key ?? PrivateKey.Generate(KeyType.Ed25519);
        PeerId = PeerId.FromPublicKey(Key.GetPublicKey());
        _listenAddresses = [.. listenAddresses.Select(Multiaddr.Parse)];
    }

    public event EventHandler<IConnection>? ConnectionOpened;

    public event EventHandler<IConnection>? ConnectionClosed;

    public event EventHandler<LocalPeerChange>? LocalPeerChanged;

    public PrivateKey Key { get; }

    public PeerId PeerId { get; }

    /// <summary>Our listen addresses; setting them raises <see cref="LocalPeerChanged"/> as a listener change would.</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses
    {
        get => Volatile.Read(ref _listenAddresses);
        set
        {
            Volatile.Write(ref _listenAddresses, value);
            LocalPeerChanged?.Invoke(this, LocalPeerChange.ListenAddresses);
        }
    }

    public FakePeerStore FakePeerStore { get; } = new();

    public IPeerStore PeerStore => FakePeerStore;

    public ConcurrentQueue<Exception> HandlerFailures { get; } = new();

    public IReadOnlyList<string> Protocols
    {
        get
        {
            lock (_lock)
            {
                return [.. _handlers.Select(h => h.Protocol)];
            }
        }
    }

    /// <summary>Connects <paramref name="dialer"/> to <paramref name="listener"/>, raising ConnectionOpened on both.</summary>
    public static (FakeConnection DialerSide, FakeConnection ListenerSide) Connect(FakeHost dialer, FakeHost listener, bool limited = false)
    {
        var dialerAddress = Multiaddr.Parse("/ip4/127.0.0.1/tcp/50001");
        var listenerAddress = Multiaddr.Parse("/ip4/127.0.0.1/tcp/4001");
        var dialerSide = new FakeConnection(dialer, listener, dialerAddress, listenerAddress, Direction.Outbound, limited);
        var listenerSide = new FakeConnection(listener, dialer, listenerAddress, dialerAddress, Direction.Inbound, limited);
        dialerSide.Remote = listenerSide;
        listenerSide.Remote = dialerSide;
        dialer.Add(dialerSide);
        listener.Add(listenerSide);
        return (dialerSide, listenerSide);
    }

    public StreamHandlerOptions? HandlerOptions(string protocol)
    {
        lock (_lock)
        {
            return _handlers.Where(h => h.Protocol == protocol).Select(h => h.Options).FirstOrDefault();
        }
    }

    public void SetStreamHandler(string protocol, StreamHandler handler, StreamHandlerOptions? options = null)
    {
        bool added;
        lock (_lock)
        {
            added = _handlers.RemoveAll(h => h.Protocol == protocol) == 0;
            _handlers.Add((protocol, handler, options ?? StreamHandlerOptions.Default));
        }

        if (added)
        {
            LocalPeerChanged?.Invoke(this, LocalPeerChange.Protocols);
        }
    }

    public void RemoveStreamHandler(string protocol)
    {
        bool removed;
        lock (_lock)
        {
            removed = _handlers.RemoveAll(h => h.Protocol == protocol) > 0;
        }

        if (removed)
        {
            LocalPeerChanged?.Invoke(this, LocalPeerChange.Protocols);
        }
    }

    public ValueTask<IConnection> ConnectAsync(Multiaddr address, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("the fake host has no transports; use FakeHost.Connect");

    public ValueTask<IConnection> ConnectAsync(PeerId peer, CancellationToken cancellationToken = default) =>
        GetConnections(peer) is [var connection, ..]
            ? ValueTask.FromResult(connection)
            : ValueTask.FromException<IConnection>(new IOException($"not connected to {peer}"));

    public async ValueTask<IStream> NewStreamAsync(PeerId peer, IReadOnlyList<string> protocols, CancellationToken cancellationToken = default) =>
        await (await ConnectAsync(peer, cancellationToken)).NewStreamAsync(protocols, cancellationToken);

    public IReadOnlyList<IConnection> GetConnections(PeerId? peer = null)
    {
        lock (_lock)
        {
            return [.. _connections.Where(c => peer is null || c.RemotePeer.Equals(peer))];
        }
    }

    /// <summary>Waits until every inbound stream handler started so far has ended.</summary>
    public Task WhenHandlersDoneAsync() => Task.WhenAll(_handlerTasks.Keys);

    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        await WhenHandlersDoneAsync();
        _lifetime.Dispose();
    }

    public StreamHandler? FindHandler(string protocol)
    {
        lock (_lock)
        {
            return _handlers.Where(h => h.Protocol == protocol).Select(h => h.Handler).FirstOrDefault();
        }
    }

    public void RunHandler(StreamHandler handler, InMemoryStream stream)
    {
        var token = _lifetime.Token;
        var task = Task.Run(async () =>
        {
            try
            {
                await handler(stream, token);
            }
            catch (Exception ex)
            {
                HandlerFailures.Enqueue(ex);
            }
            finally
            {
                await stream.DisposeAsync();
            }
        });
        _handlerTasks.TryAdd(task, 0);
    }

    public string NextConnectionId() => $"{PeerId.ToString()[^4..]}-{Interlocked.Increment(ref _nextConnection)}";

    public void Remove(FakeConnection connection)
    {
        lock (_lock)
        {
            if (!_connections.Remove(connection))
            {
                return;
            }
        }

        ConnectionClosed?.Invoke(this, connection);
    }

    private void Add(FakeConnection connection)
    {
        lock (_lock)
        {
            _connections.Add(connection);
        }

        ConnectionOpened?.Invoke(this, connection);
    }
}
