using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// The WebSocket transport: dials and listens on <c>/ip4|ip6|dns4|dns6|dns/…/tcp/P/ws</c> (a trailing <c>/p2p/ID</c>
/// is fine for dialing). The opening handshake is done here (RFC 6455 section 4, see <see cref="WebSocketHandshake"/>),
/// the framing by <see cref="System.Net.WebSockets.WebSocket"/>; the connection is a byte stream of binary messages,
/// as js-libp2p and browsers use it. Plain <c>/ws</c> only: <c>/wss</c> and <c>/tls/…/ws</c> (TLS) are not supported.
/// </summary>
public sealed class WebSocketTransport : ITransport
{
    private static readonly Multiaddr WsSuffix = Multiaddr.Create(MultiaddrComponent.Create(MultiaddrProtocol.Ws));

    private readonly WebSocketTransportOptions _options;
    private readonly ILogger _logger;
    private readonly Action<PipeConnection> _onClosed;
    private readonly MemoryPool<byte> _pool;
    private int _openConnections;

    /// <summary>A WebSocket transport with <paramref name="options"/> (<see cref="WebSocketTransportOptions.Default"/>
    /// when null), logging refused and failed inbound handshakes to <paramref name="logger"/>.</summary>
    public WebSocketTransport(WebSocketTransportOptions? options = null, ILogger<WebSocketTransport>? logger = null)
    {
        _options = options ?? WebSocketTransportOptions.Default;
        _options.Validate();
        _pool = _options.Tcp.MemoryPool ?? new PinnedBlockMemoryPool();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _onClosed = _ => Interlocked.Decrement(ref _openConnections);
    }

    /// <inheritdoc/>
    public string Name => "ws";

    /// <summary>Connections of this transport whose socket is not yet closed.</summary>
    internal int OpenConnections => Volatile.Read(ref _openConnections);

    internal WebSocketTransportOptions Options => _options;

    internal ILogger Logger => _logger;

    /// <inheritdoc/>
    public bool CanDial(Multiaddr address) => TryParse(address, out var target) && TcpAddress.IsAtMostPeerId(Rest(target));

    /// <inheritdoc/>
    public bool CanListen(Multiaddr address) => TryParse(address, out var target) && Rest(target).IsEmpty;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Not a <c>/ws</c> address (see <see cref="CanDial"/>); the message says when it
    /// is <c>/wss</c>, which is not supported.</exception>
    /// <exception cref="IOException">No resolved address accepted the connection, or the server refused the upgrade
    /// or answered it wrongly; the message names the address.</exception>
    /// <exception cref="TimeoutException">Connecting and upgrading took longer than
    /// <see cref="TransportDialOptions.Timeout"/>.</exception>
    public ValueTask<ITransportConnection> DialAsync(Multiaddr address, TransportDialOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!TryParse(address, out var target) || !TcpAddress.IsAtMostPeerId(Rest(target)))
        {
            throw new ArgumentException(
                address.Contains(MultiaddrProtocol.Wss) || address.Contains(MultiaddrProtocol.Tls)
                    ? $"{address} is WebSocket over TLS (/wss), which this transport does not support"
                    : $"{address} is not a /ws address this transport dials",
                nameof(address));
        }

        return TcpSockets.WithDialTimeoutAsync<ITransportConnection>(
            address,
            options.Timeout,
            async token =>
            {
                var socket = await TcpSockets.ConnectAsync(address, target, options.LocalAddress, _options.Tcp, token).ConfigureAwait(false);
                try
                {
                    return await UpgradeAsClientAsync(socket, address, target, token).ConfigureAwait(false);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Not <c>/ip4|ip6|dns…/…/tcp/P/ws</c>.</exception>
    /// <exception cref="SocketException">The address cannot be bound or the name does not resolve.</exception>
    public async ValueTask<ITransportListener> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        if (!TryParse(address, out var target) || !Rest(target).IsEmpty)
        {
            throw new ArgumentException($"{address} is not a /ws address this transport listens on", nameof(address));
        }

        var socket = await TcpSockets.ListenAsync(target, _options.Tcp, cancellationToken).ConfigureAwait(false);
        return new WebSocketTransportListener(socket, WithWs(socket.LocalEndPoint), this);
    }

    /// <summary>
    /// The server side of the handshake on an accepted socket: reads the request, answers it, and returns the
    /// connection, or null when the request was refused (the refusal was sent and the socket closed).
    /// </summary>
    internal async ValueTask<ITransportConnection?> UpgradeAsServerAsync(Socket socket, CancellationToken cancellationToken)
    {
        TcpSockets.ConfigureConnected(socket, _options.Tcp);
        HttpRequestHead request;
        byte[] leftover;
        try
        {
            (request, leftover) = await ReadHeadAsync<HttpRequestHead>(socket, HttpHeadCodec.TryReadRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (WireFormatException e)
        {
            WebSocketLog.UpgradeRefused(_logger, socket.RemoteEndPoint, "malformed request: " + e.Message);
            await RefuseAsync(socket, WebSocketHandshake.BadRequest, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (!WebSocketHandshake.TryAccept(request, out var response, out var refusal))
        {
            WebSocketLog.UpgradeRefused(_logger, socket.RemoteEndPoint, refusal);
            await RefuseAsync(socket, response, cancellationToken).ConfigureAwait(false);
            return null;
        }

        await SendHeadAsync(socket, writer => HttpHeadCodec.Write(writer, response), cancellationToken).ConfigureAwait(false);
        return Wrap(socket, leftover, Direction.Inbound);
    }

    private static bool TryParse(Multiaddr address, [NotNullWhen(true)] out TcpAddress? target) =>
        TcpAddress.TryParse(address, out target)
        && !target.Remainder.IsEmpty
        && target.Remainder.Components[0].Protocol == MultiaddrProtocol.Ws;

    /// <summary>What follows <c>/ws</c>.</summary>
    private static Multiaddr Rest(TcpAddress target) => Multiaddr.Create(target.Remainder.Components.AsSpan()[1..]);

    private static Multiaddr WithWs(EndPoint? endPoint) => Multiaddr.FromIPEndPoint((IPEndPoint)endPoint!).Encapsulate(WsSuffix);

    /// <summary>Reads one HTTP head (at most <see cref="HttpHeadCodec.MaxHeadLength"/> bytes) straight from the
    /// socket; returns it with the bytes that came after it.</summary>
    private static async ValueTask<(T Head, byte[] Leftover)> ReadHeadAsync<T>(Socket socket, HeadReader<T> read, CancellationToken cancellationToken)
        where T : HttpMessageHead
    {
        var buffer = ArrayPool<byte>.Shared.Rent(HttpHeadCodec.MaxHeadLength);
        try
        {
            var length = 0;
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer.AsMemory(length, HttpHeadCodec.MaxHeadLength - length), SocketFlags.None, cancellationToken)
                    .ConfigureAwait(false);
                if (received == 0)
                {
                    throw new IOException("the connection was closed during the WebSocket handshake");
                }

                length += received;
                var input = new ReadOnlySequence<byte>(buffer, 0, length);
                if (read(ref input, out var head))
                {
                    return (head, input.ToArray());
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask SendHeadAsync(Socket socket, Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        write(writer);
        await socket.SendAsync(writer.WrittenMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a refusal, half-closes, and reads what the client still sends (up to 64 KiB) before closing, so
    /// that the close does not reset the connection and destroy the refusal before the client reads it.</summary>
    private static async ValueTask RefuseAsync(Socket socket, HttpResponseHead response, CancellationToken cancellationToken)
    {
        try
        {
            await SendHeadAsync(socket, writer => HttpHeadCodec.Write(writer, response), cancellationToken).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            var discard = ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                for (var drained = 0; drained < 64 * 1024;)
                {
                    var received = await socket.ReceiveAsync(discard, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    if (received == 0)
                    {
                        break;
                    }

                    drained += received;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(discard);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or took too long to go: the refusal was sent, nothing is left to do.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private async ValueTask<ITransportConnection> UpgradeAsClientAsync(Socket socket, Multiaddr address, TcpAddress target, CancellationToken cancellationToken)
    {
        var key = WebSocketHandshake.CreateKey();
        var request = WebSocketHandshake.CreateRequest(target.Authority, "/", key);
        await SendHeadAsync(socket, writer => HttpHeadCodec.Write(writer, request), cancellationToken).ConfigureAwait(false);
        HttpResponseHead response;
        byte[] leftover;
        try
        {
            (response, leftover) = await ReadHeadAsync<HttpResponseHead>(socket, HttpHeadCodec.TryReadResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (WireFormatException e)
        {
            throw new IOException($"the WebSocket upgrade of {address} failed: the answer is not valid HTTP: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new IOException($"the WebSocket upgrade of {address} failed: {e.Message}", e);
        }

        var problem = WebSocketHandshake.CheckResponse(response, key);
        return problem is null
            ? Wrap(socket, leftover, Direction.Outbound)
            : throw new IOException($"the WebSocket upgrade of {address} failed: {problem}");
    }

    private WebSocketConnection Wrap(Socket socket, byte[] leftover, Direction direction)
    {
        Interlocked.Increment(ref _openConnections);
        try
        {
            var stream = new PrefixedNetworkStream(socket, leftover);
            return new WebSocketConnection(socket, stream, WithWs(socket.LocalEndPoint), WithWs(socket.RemoteEndPoint), direction, _options, _pool, _onClosed);
        }
        catch
        {
            Interlocked.Decrement(ref _openConnections);
            throw;
        }
    }

    private delegate bool HeadReader<T>(ref ReadOnlySequence<byte> input, [NotNullWhen(true)] out T? head)
        where T : class;
}
