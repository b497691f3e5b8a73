using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Tcp;

/// <summary>Creating, binding and connecting TCP sockets: what the TCP and WebSocket transports share.</summary>
internal static class TcpSockets
{
    /// <summary>A TCP socket of <paramref name="family"/> with TCP_NODELAY; an IPv6 socket is IPv6-only, so
    /// <c>/ip4</c> and <c>/ip6</c> listeners on one port are separate sockets, as their addresses say.</summary>
    public static Socket Create(AddressFamily family)
    {
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.NoDelay = true;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Options for a connected socket (dialled or accepted): TCP_NODELAY and keep-alive.</summary>
    public static void ConfigureConnected(Socket socket, TcpTransportOptions options)
    {
        socket.NoDelay = true;
        if (options.KeepAlive is { } idle)
        {
            var seconds = (int)Math.Min(idle.TotalSeconds, int.MaxValue);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, seconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, seconds);
        }
    }

    /// <summary>SO_REUSEADDR, and SO_REUSEPORT exactly when <paramref name="reusePort"/> says so and the platform has it.</summary>
    public static void EnableAddressReuse(Socket socket, bool reusePort)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);

        // .NET has no SocketOptionName for SO_REUSEPORT, and on Unix its ReuseAddress sets SO_REUSEPORT as well, so
        // it is set explicitly either way, with the platforms' (SOL_SOCKET, SO_REUSEPORT) values. Windows has no
        // SO_REUSEPORT: there SO_REUSEADDR already lets a dial socket bind a listening port.
        Span<byte> value = [reusePort ? (byte)1 : (byte)0, 0, 0, 0];
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(1, 15, value);
        }
        else if (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD())
        {
            socket.SetRawSocketOption(0xffff, 0x0200, value);
        }
    }

    /// <summary>Binds and listens on the first address <paramref name="target"/> resolves to.</summary>
    public static async ValueTask<Socket> ListenAsync(TcpAddress target, TcpTransportOptions options, CancellationToken cancellationToken)
    {
        var addresses = await target.ResolveAsync(cancellationToken).ConfigureAwait(false);
        var socket = Create(addresses[0].AddressFamily);
        try
        {
            EnableAddressReuse(socket, options.ReusePort);
            socket.Bind(new IPEndPoint(addresses[0], target.Port));
            socket.Listen(options.ListenBacklog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to the addresses <paramref name="target"/> resolves to, in order, until one accepts; from
    /// <paramref name="localAddress"/> when given (only addresses of its family are tried then).
    /// </summary>
    /// <exception cref="IOException">No address could be connected; the message names <paramref name="address"/> and
    /// each attempt's error.</exception>
    public static async ValueTask<Socket> ConnectAsync(
        Multiaddr address, TcpAddress target, Multiaddr? localAddress, TcpTransportOptions options, CancellationToken cancellationToken)
    {
        IPEndPoint? local = null;
        if (localAddress is not null && !localAddress.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out local, out _))
        {
            throw new ArgumentException($"the local address {localAddress} is not an /ip4|ip6/…/tcp/PORT address", nameof(localAddress));
        }

        IPAddress[] addresses;
        try
        {
            addresses = await target.ResolveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"dialing {address} failed: cannot resolve '{target.HostName}': {e.Message}", e);
        }

        var failures = new List<(IPAddress Address, SocketException Error)>();
        foreach (var ip in addresses)
        {
            if (local is not null && ip.AddressFamily != local.AddressFamily)
            {
                continue;
            }

            var socket = Create(ip.AddressFamily);
            try
            {
                if (local is not null)
                {
                    EnableAddressReuse(socket, options.ReusePort);
                    socket.Bind(local);
                }

                await socket.ConnectAsync(new IPEndPoint(ip, target.Port), cancellationToken).ConfigureAwait(false);
                ConfigureConnected(socket, options);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failures.Add((ip, e));
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        if (failures.Count == 0)
        {
            throw new IOException($"dialing {address} failed: none of its addresses ({string.Join(", ", (object[])addresses)}) is of the family of the local address {localAddress}");
        }

        var message = $"dialing {address} failed: " + string.Join("; ", failures.Select(f => $"{Format(f.Address, target.Port)}: {f.Error.Message}"));
        throw failures.Count == 1
            ? new IOException(message, failures[0].Error)
            : new IOException(message, new AggregateException(failures.Select(f => f.Error)));
    }

    /// <summary>
    /// Runs <paramref name="dial"/> with a token that is cancelled after <paramref name="timeout"/> or by
    /// <paramref name="cancellationToken"/>; the timeout surfaces as a <see cref="TimeoutException"/> naming the address,
    /// the caller's cancellation as <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async ValueTask<T> WithDialTimeoutAsync<T>(
        Multiaddr address, TimeSpan timeout, Func<CancellationToken, ValueTask<T>> dial, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the dial timeout must be positive or infinite");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await dial(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"dialing {address} was cancelled", e, cancellationToken);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"dialing {address} timed out after {timeout.TotalMilliseconds:0} ms", e);
        }
    }

    private static string Format(IPAddress ip, int port) => new IPEndPoint(ip, port).ToString();
}
