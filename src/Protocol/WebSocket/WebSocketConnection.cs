using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Net.WebSockets;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;
using RfcWebSocket = System.Net.WebSockets.WebSocket;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// A WebSocket carrying a libp2p byte stream, as a pair of pipes (see <see cref="PipeConnection"/> for the lifetime).
/// The payloads of received binary messages are appended to Input, message boundaries ignored; each flush of
/// Output goes out as one binary message, split at <see cref="WebSocketTransportOptions.MaxMessageSize"/>. The
/// half-close is a close frame (1000); a close frame from the remote completes Input. A text message is a
/// protocol violation and aborts the connection.
/// </summary>
/// <remarks>
/// RFC 6455 section 5.5.1 asks an endpoint that receives a close frame to answer with its own "as soon as
/// practical"; here the answer is sent when the application completes Output, which a libp2p muxer does once it has
/// nothing more to send, so a half-closed stream can still deliver its last data.
/// </remarks>
internal sealed class WebSocketConnection : PipeConnection
{
    private readonly Socket _socket;
    private readonly RfcWebSocket _webSocket;
    private readonly int _maxMessageSize;

    public WebSocketConnection(
        Socket socket,
        Stream stream,
        Multiaddr localAddress,
        Multiaddr remoteAddress,
        Direction direction,
        WebSocketTransportOptions options,
        MemoryPool<byte> pool,
        Action<PipeConnection>? onClosed)
        : base(localAddress, remoteAddress, direction, options.Tcp, pool, onClosed)
    {
        _socket = socket;
        _maxMessageSize = options.MaxMessageSize;
        _webSocket = RfcWebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = direction == Direction.Inbound,
            KeepAliveInterval = options.KeepAliveInterval,
        });
        Start();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<bool> WaitForDataAsync()
    {
        while (true)
        {
            // A zero-byte receive reads the next frame header without a payload buffer.
            var result = await _webSocket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            if (!IsData(result))
            {
                return false;
            }

            if (!result.EndOfMessage)
            {
                return true;
            }

            // An empty message (or the empty end of one): nothing to receive, wait for the next.
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected override async ValueTask<int> ReceiveAsync(Memory<byte> buffer)
    {
        while (true)
        {
            var result = await _webSocket.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false);
            if (!IsData(result))
            {
                return 0;
            }

            if (result.Count > 0)
            {
                return result.Count;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        var remaining = buffer.Length;
        var inMessage = 0;
        foreach (var segment in buffer)
        {
            for (var rest = segment; !rest.IsEmpty;)
            {
                var piece = rest[..Math.Min(rest.Length, _maxMessageSize - inMessage)];
                rest = rest[piece.Length..];
                inMessage += piece.Length;
                remaining -= piece.Length;
                var end = inMessage == _maxMessageSize || remaining == 0;
                var flags = end ? WebSocketMessageFlags.EndOfMessage : WebSocketMessageFlags.None;
                await _webSocket.SendAsync(piece, WebSocketMessageType.Binary, flags, CancellationToken.None).ConfigureAwait(false);
                if (end)
                {
                    inMessage = 0;
                }
            }
        }
    }

    protected override async ValueTask ShutdownSendAsync() =>
        await _webSocket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);

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

        // The socket first: disposing the stream (which Abort does) would shut it down with a FIN before closing it.
        _socket.Dispose();
        _webSocket.Abort();
    }

    protected override void CloseTransport()
    {
        _webSocket.Dispose();
        _socket.Dispose();
    }

    protected override IOException DescribeFailure(Exception error, string operation)
    {
        if (error is not WebSocketException)
        {
            return base.DescribeFailure(error, operation);
        }

        // The stream's IOException and its SocketException are inside the WebSocketException.
        for (var inner = error.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                return new IOException($"the WebSocket connection with {RemoteAddress} was reset by the remote", error);
            }
        }

        return new IOException($"{operation} on the WebSocket connection with {RemoteAddress} failed: {error.Message}", error);
    }

    /// <summary>True for a binary message; false for the remote's close; throws for a text message or a close
    /// that reports an error.</summary>
    private bool IsData(ValueWebSocketReceiveResult result)
    {
        switch (result.MessageType)
        {
            case WebSocketMessageType.Binary:
                return true;
            case WebSocketMessageType.Text:
                throw new IOException($"{RemoteAddress} sent a text message; libp2p over WebSocket uses binary messages only");
            default:
                var status = _webSocket.CloseStatus;
                return status is null or WebSocketCloseStatus.Empty or WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.EndpointUnavailable
                    ? false
                    : throw new IOException($"{RemoteAddress} closed the WebSocket with {(int)status} {_webSocket.CloseStatusDescription}");
        }
    }
}
