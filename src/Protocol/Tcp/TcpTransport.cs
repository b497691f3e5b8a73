using System.Buffers;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// The TCP transport: dials and listens on <c>/ip4|ip6/A/tcp/P</c> and <c>/dns4|dns6|dns/NAME/tcp/P</c> (a trailing
/// <c>/p2p/ID</c> is fine for dialing). Connections are pairs of pipes over a socket, with TCP_NODELAY,
/// SO_REUSEADDR/SO_REUSEPORT and a dial that can leave from a listen port (<see cref="TransportDialOptions.LocalAddress"/>).
/// Addresses with anything else after the port (<c>/ws</c>, <c>/tls</c>, <c>/p2p-circuit</c>…) belong to other transports.
/// </summary>
public sealed class TcpTransport : ITransport
{
    private readonly TcpTransportOptions _options;
    private readonly SocketSenderPool _senders = new();
    private readonly MemoryPool<byte> _pool;
    private readonly Action<PipeConnection> _onClosed;
    private int _openConnections;

    /// <summary>A TCP transport with <paramref name="options"/> (<see cref="TcpTransportOptions.Default"/> when null).</summary>
    public TcpTransport(TcpTransportOptions? options = null)
    {
        _options = options ?? TcpTransportOptions.Default;
        _options.Validate();
        _pool = _options.MemoryPool ?? new PinnedBlockMemoryPool();
        _onClosed = _ => Interlocked.Decrement(ref _openConnections);
    }

    /// <inheritdoc/>
    public string Name => "tcp";

    /// <summary>Connections of this transport whose socket is not yet closed.</summary>
    internal int OpenConnections => Volatile.Read(ref _openConnections);

    /// <inheritdoc/>
    public bool CanDial(Multiaddr address) => TcpAddress.TryParse(address, out var target) && target.RemainderIsAtMostPeerId;

    /// <inheritdoc/>
    public bool CanListen(Multiaddr address) => TcpAddress.TryParse(address, out var target) && target.Remainder.IsEmpty;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Not a TCP address (see <see cref="CanDial"/>), or a local address that is
    /// not <c>/ip4|ip6/A/tcp/P</c>.</exception>
    /// <exception cref="IOException">No resolved address accepted the connection; the message names each attempt.</exception>
    /// <exception cref="TimeoutException"><see cref="TransportDialOptions.Timeout"/> passed first.</exception>
    public ValueTask<ITransportConnection> DialAsync(Multiaddr address, TransportDialOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!TcpAddress.TryParse(address, out var target) || !target.RemainderIsAtMostPeerId)
        {
            throw new ArgumentException($"{address} is not a TCP address this transport dials", nameof(address));
        }

        return TcpSockets.WithDialTimeoutAsync<ITransportConnection>(
            address,
            options.Timeout,
            async token => Wrap(
                await TcpSockets.ConnectAsync(address, target, options.LocalAddress, _options, token).ConfigureAwait(false),
                Direction.Outbound),
            cancellationToken);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">Not <c>/ip4|ip6|dns…/…/tcp/P</c> with nothing after the port.</exception>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local) or the name does not resolve.</exception>
    public async ValueTask<ITransportListener> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        if (!TcpAddress.TryParse(address, out var target) || !target.Remainder.IsEmpty)
        {
            throw new ArgumentException($"{address} is not a TCP address this transport listens on", nameof(address));
        }

        var socket = await TcpSockets.ListenAsync(target, _options, cancellationToken).ConfigureAwait(false);
        return new TcpTransportListener(socket, accepted => Wrap(accepted, Direction.Inbound));
    }

    private SocketConnection Wrap(Socket socket, Direction direction)
    {
        Interlocked.Increment(ref _openConnections);
        try
        {
            if (direction == Direction.Inbound)
            {
                TcpSockets.ConfigureConnected(socket, _options);
            }

            return new SocketConnection(socket, direction, _options, _pool, _senders, _onClosed);
        }
        catch
        {
            Interlocked.Decrement(ref _openConnections);
            socket.Dispose();
            throw;
        }
    }
}
