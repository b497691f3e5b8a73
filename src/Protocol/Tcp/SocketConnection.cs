using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// A TCP connection as a pair of pipes (see <see cref="PipeConnection"/> for the lifetime). Receives wait for data
/// with a zero-byte receive before taking a pool buffer; sends gather the pipe's segments into one system call.
/// The half-close is <c>shutdown(SHUT_WR)</c> (a FIN); an abort closes with SO_LINGER 0 (a RST).
/// </summary>
internal sealed class SocketConnection : PipeConnection
{
    private readonly Socket _socket;
    private readonly SocketSenderPool _senders;

    public SocketConnection(
        Socket socket,
        Direction direction,
        TcpTransportOptions options,
        MemoryPool<byte> pool,
        SocketSenderPool senders,
        Action<PipeConnection>? onClosed = null)
        : base(
            Multiaddr.FromIPEndPoint((IPEndPoint)socket.LocalEndPoint!),
            Multiaddr.FromIPEndPoint((IPEndPoint)socket.RemoteEndPoint!),
            direction,
            options,
            pool,
            onClosed)
    {
        _socket = socket;
        _senders = senders;
        Start();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<bool> WaitForDataAsync()
    {
        // Completes when data or the FIN arrives (on Unix .NET peeks one byte), without a buffer.
        await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
        return true;
    }

    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => _socket.ReceiveAsync(buffer, SocketFlags.None);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int sent;
            if (buffer.IsSingleSegment)
            {
                sent = await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
            }
            else
            {
                var sender = _senders.Rent();
                try
                {
                    if (sender.TrySend(_socket, buffer, out var sending))
                    {
                        sent = await sending.ConfigureAwait(false);
                    }
                    else
                    {
                        // A segment not backed by an array (a custom pool): send the first one on its own.
                        sent = await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _senders.Return(sender);
                }
            }

            // A gathered send takes at most 8 segments; and should a platform's send stop short, the rest follows.
            buffer = buffer.Slice(sent);
        }
    }

    protected override ValueTask ShutdownSendAsync()
    {
        _socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }

    protected override void AbortTransport()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        _socket.Dispose();
    }

    // .NET turns a close that cancels a pending receive into an abortive one (a RST, dropping data still in the
    // kernel's send buffer) unless the send side was shut down first, which the graceful path always does.
    protected override void CloseTransport() => _socket.Dispose();

    protected override IOException DescribeFailure(Exception error, string operation) => error switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionReset } e =>
            new IOException($"the connection with {RemoteAddress} was reset by the remote", e),
        SocketException e => new IOException($"{operation} on the connection with {RemoteAddress} failed: {e.Message} ({e.SocketErrorCode})", e),
        _ => base.DescribeFailure(error, operation),
    };
}
