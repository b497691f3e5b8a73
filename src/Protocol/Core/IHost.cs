using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>Handles one inbound stream of a registered protocol. The host disposes the stream when the task ends.</summary>
public delegate Task StreamHandler(IStream stream, CancellationToken cancellationToken);

/// <summary>How the host runs a protocol's handler.</summary>
public sealed record StreamHandlerOptions
{
    /// <summary>The defaults: 32 inbound streams per connection, not on limited connections.</summary>
    public static StreamHandlerOptions Default { get; } = new();

    /// <summary>Inbound streams of this protocol allowed at once on one connection; more are reset and counted.</summary>
    public int MaxInboundStreamsPerConnection { get; init; } = 32;

    /// <summary>Whether the handler also runs on limited (relayed) connections.</summary>
    public bool RunOnLimitedConnection { get; init; }
}

/// <summary>What about our own peer changed (<see cref="IHost.LocalPeerChanged"/>).</summary>
[Flags]
public enum LocalPeerChange
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>A protocol handler was added or removed: <see cref="IHost.Protocols"/> changed.</summary>
    Protocols = 1,

    /// <summary>A listener was opened or closed: <see cref="IHost.ListenAddresses"/> changed.</summary>
    ListenAddresses = 2,
}

/// <summary>
/// A libp2p node: its identity, listeners, connections and protocol handlers. Thread-safe.
/// </summary>
public interface IHost : IAsyncDisposable
{
    /// <summary>Our peer id.</summary>
    PeerId PeerId { get; }

    /// <summary>The addresses we listen on (port 0 resolved), without <c>/p2p</c>.</summary>
    IReadOnlyList<Multiaddr> ListenAddresses { get; }

    /// <summary>What we know about other peers.</summary>
    IPeerStore PeerStore { get; }

    /// <summary>Protocols we handle, in registration order.</summary>
    IReadOnlyList<string> Protocols { get; }

    /// <summary>Registers (or replaces) the handler of <paramref name="protocol"/>.</summary>
    void SetStreamHandler(string protocol, StreamHandler handler, StreamHandlerOptions? options = null);

    /// <summary>Removes the handler of <paramref name="protocol"/>.</summary>
    void RemoveStreamHandler(string protocol);

    /// <summary>Dials <paramref name="address"/> (which may end in <c>/p2p/…</c>) unless already connected to that peer.</summary>
    ValueTask<IConnection> ConnectAsync(Multiaddr address, CancellationToken cancellationToken = default);

    /// <summary>Returns an open connection to <paramref name="peer"/>, dialling its known addresses if there is none.</summary>
    ValueTask<IConnection> ConnectAsync(PeerId peer, CancellationToken cancellationToken = default);

    /// <summary>Opens a stream to <paramref name="peer"/> (connecting if needed) for the first supported protocol.</summary>
    ValueTask<IStream> NewStreamAsync(PeerId peer, IReadOnlyList<string> protocols, CancellationToken cancellationToken = default);

    /// <summary>Open connections, all or to one peer.</summary>
    IReadOnlyList<IConnection> GetConnections(PeerId? peer = null);

    /// <summary>Raised after a connection is upgraded and registered.</summary>
    event EventHandler<IConnection>? ConnectionOpened;

    /// <summary>Raised after a connection has closed and was removed.</summary>
    event EventHandler<IConnection>? ConnectionClosed;

    /// <summary>Raised after our protocols or listen addresses changed (what identify push tells peers about). Raised
    /// on the thread that made the change, so a handler must be quick and must not throw.</summary>
    event EventHandler<LocalPeerChange>? LocalPeerChanged;
}
