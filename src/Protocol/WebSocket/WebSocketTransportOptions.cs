using ToolNet.Protocol.Tcp;

namespace ToolNet.Protocol.WebSocket;

/// <summary>Options of <see cref="WebSocketTransport"/>.</summary>
public sealed record WebSocketTransportOptions
{
    /// <summary>The defaults: TCP defaults, 64 KiB messages, 10 s handshakes, 128 pending handshakes, no pings.</summary>
    public static WebSocketTransportOptions Default { get; } = new();

    /// <summary>The TCP socket options, and the buffering limits of the connection's pipes.</summary>
    public TcpTransportOptions Tcp { get; init; } = TcpTransportOptions.Default;

    /// <summary>
    /// The largest binary message sent. Each flush of the connection's output goes out as one message, split into
    /// several when it is larger than this: a browser hands a message to the page only once all of it has arrived,
    /// so smaller messages keep its buffering and latency down. Received messages may have any size: they are
    /// streamed into the input pipe as they arrive.
    /// </summary>
    public int MaxMessageSize { get; init; } = 64 * 1024;

    /// <summary>How long an inbound connection may take to send its upgrade request before it is dropped.
    /// (Dials are bounded by <see cref="Core.TransportDialOptions.Timeout"/>, which covers the handshake.)</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many inbound connections may be in their handshake (or wait for <c>AcceptAsync</c>) at once;
    /// the listener stops accepting sockets while this many are.</summary>
    public int MaxPendingHandshakes { get; init; } = 128;

    /// <summary>How often to send WebSocket pings (unsolicited pongs) on an idle connection; zero (the default) sends
    /// none, leaving liveness to libp2p's own ping and to TCP keep-alive.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for an unusable value.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Tcp, nameof(Tcp));
        Tcp.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageSize, 1, nameof(MaxMessageSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero, nameof(HandshakeTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingHandshakes, 1, nameof(MaxPendingHandshakes));
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveInterval, TimeSpan.Zero, nameof(KeepAliveInterval));
    }
}
