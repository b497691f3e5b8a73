using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>
/// A secure, multiplexed connection to one authenticated peer, as the host sees it. Thread-safe.
/// </summary>
public interface IConnection
{
    /// <summary>A short id unique within this host, for logs.</summary>
    string Id { get; }

    /// <summary>The authenticated remote peer.</summary>
    PeerId RemotePeer { get; }

    /// <summary>The remote's identity key.</summary>
    PublicKey RemotePublicKey { get; }

    /// <summary>Our end of the underlying transport connection.</summary>
    Multiaddr LocalAddress { get; }

    /// <summary>The remote end of the underlying transport connection.</summary>
    Multiaddr RemoteAddress { get; }

    /// <summary>Whether we dialled it or accepted it.</summary>
    Direction Direction { get; }

    /// <summary>
    /// A limited connection (a relayed circuit with data and time caps) carries only streams of protocols whose
    /// handler opted in (<see cref="StreamHandlerOptions.RunOnLimitedConnection"/>), in both directions.
    /// </summary>
    bool IsLimited { get; }

    /// <summary>The negotiated security protocol id (for example <c>/noise</c>).</summary>
    string Security { get; }

    /// <summary>The negotiated stream muxer protocol id (for example <c>/yamux/1.0.0</c>).</summary>
    string Muxer { get; }

    /// <summary>When the upgrade finished.</summary>
    DateTimeOffset Opened { get; }

    /// <summary>Streams currently open on this connection.</summary>
    int StreamCount { get; }

    /// <summary>Opens a stream and negotiates the first of <paramref name="protocols"/> the remote supports.</summary>
    /// <exception cref="Multistream.ProtocolNegotiationException">The remote supports none of them.</exception>
    ValueTask<IStream> NewStreamAsync(IReadOnlyList<string> protocols, CancellationToken cancellationToken = default);

    /// <summary>Closes the connection gracefully (go-away, then close).</summary>
    ValueTask CloseAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    Task Completion { get; }
}

/// <summary>A stream on a connection, with the protocol negotiated for it.</summary>
public interface IStream : IMuxedStream
{
    /// <summary>The protocol id agreed with multistream-select.</summary>
    string Protocol { get; }

    /// <summary>The connection carrying the stream.</summary>
    IConnection Connection { get; }
}
