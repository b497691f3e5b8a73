using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Tcp;

/// <summary>A listening TCP socket; each <see cref="AcceptAsync"/> takes the next connection the kernel completed.</summary>
internal sealed class TcpTransportListener : ITransportListener
{
    private readonly Socket _socket;
    private readonly Func<Socket, ITransportConnection> _wrap;
    private int _disposed;

    /// <param name="wrap">Makes the accepted socket a transport connection.</param>
    public TcpTransportListener(Socket socket, Func<Socket, ITransportConnection> wrap)
    {
        _socket = socket;
        _wrap = wrap;
        ListenAddress = Multiaddr.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!);
    }

    public Multiaddr ListenAddress { get; }

    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var socket = await AcceptSocketAsync(_socket, () => _disposed != 0, cancellationToken).ConfigureAwait(false);
        return socket is null ? null : _wrap(socket);
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Accepts the next connection, skipping ones reset before they were accepted; null once
    /// <paramref name="isClosed"/> says the listening socket was closed.</summary>
    internal static async ValueTask<Socket?> AcceptSocketAsync(Socket listener, Func<bool> isClosed, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The remote gave up between the handshake and the accept; take the next one.
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException && isClosed())
            {
                return null;
            }
        }
    }
}
