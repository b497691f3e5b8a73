using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// A listening socket whose connections are upgraded to WebSockets in the background, each within the handshake
/// timeout, so a slow or silent client holds up no one; <see cref="AcceptAsync"/> takes the upgraded ones in order
/// of completion. At most <see cref="WebSocketTransportOptions.MaxPendingHandshakes"/> are in progress or waiting for
/// <see cref="AcceptAsync"/>; past that, sockets wait in the kernel's backlog.
/// </summary>
internal sealed class WebSocketTransportListener : ITransportListener
{
    private const int AcceptQueueCapacity = 16;

    private readonly Socket _socket;
    private readonly WebSocketTransport _transport;
    private readonly SemaphoreSlim _handshakeSlots;
    private readonly int _maxPendingHandshakes;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<ITransportConnection> _accepted =
        Channel.CreateBounded<ITransportConnection>(new BoundedChannelOptions(AcceptQueueCapacity) { SingleWriter = false });

    private readonly Task _acceptLoop;
    private int _pendingHandshakes;
    private int _disposed;

    public WebSocketTransportListener(Socket socket, Multiaddr listenAddress, WebSocketTransport transport)
    {
        _socket = socket;
        _transport = transport;
        _maxPendingHandshakes = transport.Options.MaxPendingHandshakes;
        _handshakeSlots = new SemaphoreSlim(_maxPendingHandshakes, _maxPendingHandshakes);
        ListenAddress = listenAddress;
        _acceptLoop = AcceptLoopAsync();
    }

    public Multiaddr ListenAddress { get; }

    /// <summary>Inbound connections in their handshake or waiting for <see cref="AcceptAsync"/>.</summary>
    internal int PendingHandshakes => Volatile.Read(ref _pendingHandshakes);

    /// <inheritdoc/>
    /// <exception cref="SocketException">Accepting failed for another reason than the listener closing (for example,
    /// too many open files); the listener accepts no more.</exception>
    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            // Closed by the listener's disposal, or by a failure of the accept loop: rethrow that as it was.
            if (e.InnerException is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);

        // Every handshake holds a slot until it ends; the cancellation ends them all.
        for (var i = 0; i < _maxPendingHandshakes; i++)
        {
            await _handshakeSlots.WaitAsync().ConfigureAwait(false);
        }

        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out var unclaimed))
        {
            unclaimed.Abort();
            await unclaimed.DisposeAsync().ConfigureAwait(false);
        }

        _handshakeSlots.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                await _handshakeSlots.WaitAsync(_stopping.Token).ConfigureAwait(false);
                Socket? socket;
                try
                {
                    socket = await TcpTransportListener.AcceptSocketAsync(_socket, () => _stopping.IsCancellationRequested, _stopping.Token)
                        .ConfigureAwait(false);
                }
                catch
                {
                    // Stopping cancels the accept (or a socket error ends it): the slot taken for it is free again,
                    // or DisposeAsync would wait for it forever.
                    _handshakeSlots.Release();
                    throw;
                }

                if (socket is null)
                {
                    _handshakeSlots.Release();
                    break;
                }

                _ = HandshakeAsync(socket);
            }

            _accepted.Writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            _accepted.Writer.TryComplete();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            WebSocketLog.ListenerStopped(_transport.Logger, ListenAddress, e);
            _accepted.Writer.TryComplete(e);
        }
    }

    private async Task HandshakeAsync(Socket socket)
    {
        Interlocked.Increment(ref _pendingHandshakes);
        try
        {
            ITransportConnection? connection;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                deadline.CancelAfter(_transport.Options.HandshakeTimeout);
                connection = await _transport.UpgradeAsServerAsync(socket, deadline.Token).ConfigureAwait(false);
            }

            if (connection is not null && !_accepted.Writer.TryWrite(connection))
            {
                try
                {
                    await _accepted.Writer.WriteAsync(connection, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
                {
                    connection.Abort();
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            WebSocketLog.HandshakeFailed(_transport.Logger, ListenAddress, e.Message);
            socket.Dispose();
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            _handshakeSlots.Release();
        }
    }
}
