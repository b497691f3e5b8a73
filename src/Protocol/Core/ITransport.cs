using System.IO.Pipelines;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Core;

/// <summary>
/// A way to reach peers: TCP, WebSocket, later relayed circuits. A transport turns a multiaddr into a raw,
/// unauthenticated byte connection; the upgrader secures and multiplexes it.
/// </summary>
public interface ITransport
{
    /// <summary>A short name for logs and metrics, for example <c>tcp</c> or <c>ws</c>.</summary>
    string Name { get; }

    /// <summary>Whether <paramref name="address"/> is one this transport dials (ignoring a trailing <c>/p2p/…</c>).</summary>
    bool CanDial(Multiaddr address);

    /// <summary>Whether this transport can listen on <paramref name="address"/>.</summary>
    bool CanListen(Multiaddr address);

    /// <summary>Opens a raw connection to <paramref name="address"/>.</summary>
    ValueTask<ITransportConnection> DialAsync(Multiaddr address, TransportDialOptions options, CancellationToken cancellationToken = default);

    /// <summary>Starts listening on <paramref name="address"/>; port 0 picks a free port.</summary>
    ValueTask<ITransportListener> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default);
}

/// <summary>Options for one transport dial.</summary>
public sealed record TransportDialOptions
{
    /// <summary>Default options: no local address, 10 s timeout.</summary>
    public static TransportDialOptions Default { get; } = new();

    /// <summary>When set, the dial leaves from this local address and port (the listen port, for hole punching).</summary>
    public Multiaddr? LocalAddress { get; init; }

    /// <summary>The peer expected at the address, when known. The relay transport needs it: the host hands
    /// transports addresses without their trailing <c>/p2p/…</c>, and a circuit address names its target only there.</summary>
    public Peers.PeerId? Peer { get; init; }

    /// <summary>How long connecting may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>A bound listener of a transport.</summary>
public interface ITransportListener : IAsyncDisposable
{
    /// <summary>The address actually bound (port 0 resolved).</summary>
    Multiaddr ListenAddress { get; }

    /// <summary>Waits for the next inbound raw connection; null once the listener is closed.</summary>
    ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A raw byte connection as a pair of pipes. Completing <see cref="IDuplexPipe.Output"/> half-closes the
/// connection (TCP FIN); the remote's half-close completes <see cref="IDuplexPipe.Input"/>.
/// </summary>
public interface ITransportConnection : IDuplexPipe, IAsyncDisposable
{
    /// <summary>Our end of the connection.</summary>
    Multiaddr LocalAddress { get; }

    /// <summary>The remote end of the connection, as the transport sees it.</summary>
    Multiaddr RemoteAddress { get; }

    /// <summary>Whether we dialled or accepted it.</summary>
    Direction Direction { get; }

    /// <summary>Closes the connection at once without flushing.</summary>
    void Abort(Exception? reason = null);
}
