namespace ToolNet.Protocol.Yamux;

/// <summary>Settings of a yamux session. The defaults interoperate with go-libp2p and js-libp2p.</summary>
public sealed record YamuxOptions
{
    /// <summary>The window every stream starts with on both sides (libp2p/specs yamux/README.md, "Flow Control":
    /// "Both sides assume the initial 256KB window").</summary>
    public const int SpecInitialWindowSize = 256 * 1024;

    /// <summary>The default <see cref="MaxDataFrameSize"/>: 64 KiB less a Noise frame's length prefix (2) and tag (16)
    /// and the yamux header (12).</summary>
    public const int DefaultMaxDataFrameSize = (64 * 1024) - 2 - 16 - YamuxFrameHeader.Size;

    /// <summary>The default options.</summary>
    public static YamuxOptions Default { get; } = new();

    /// <summary>The receive window we grant each new stream. Larger than <see cref="SpecInitialWindowSize"/> means
    /// the difference is granted by a window update sent with the SYN or ACK, as the spec allows.</summary>
    public int InitialStreamWindowSize { get; init; } = SpecInitialWindowSize;

    /// <summary>The receive window auto-tuning may grow a stream to: when the reader consumed half the
    /// window within two round trips, the window is the bottleneck and doubles (see YamuxReceiveWindow).
    /// Equal to <see cref="InitialStreamWindowSize"/> disables auto-tuning.</summary>
    public int MaxStreamWindowSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>The receive memory of one connection: every byte of receive window granted to the remote, on all
    /// streams, is reserved against this first (the spec has no session window: "There is no window size for the
    /// session", libp2p/specs yamux/README.md, "Flow Control"). A stream reserves its initial window when it opens
    /// and keeps its reservation until it can receive no more and the application has read or dropped what it
    /// buffered. An inbound SYN that does not fit is refused with RST (counted in
    /// <see cref="YamuxSession.OverBudgetInboundStreamCount"/>); opening an outbound stream that does not fit throws
    /// <see cref="YamuxReceiveBudgetExceededException"/>; auto-tuning grows a window only while a quarter of the
    /// budget stays free for new streams. The default, 32 MiB, is 128 streams at the initial 256 KiB window, or one
    /// stream auto-tuned to 16 MiB with room for 64 more. Must be at least <see cref="InitialStreamWindowSize"/>.</summary>
    public long MaxConnectionReceiveBuffer { get; init; } = 32 * 1024 * 1024;

    /// <summary>Inbound streams open at once (accepted or waiting to be accepted); a SYN beyond this is answered
    /// with RST and counted in <see cref="YamuxSession.RefusedInboundStreamCount"/>. The spec asks to buffer at
    /// least 256 unacknowledged inbound streams ("ACK backlog").</summary>
    public int MaxInboundStreams { get; init; } = 256;

    /// <summary>Outbound streams the remote has not acknowledged yet; opening more waits. The spec: "SHOULD at most
    /// allow an ACK backlog of 256 streams".</summary>
    public int MaxUnacknowledgedOutboundStreams { get; init; } = 256;

    /// <summary>The largest data frame payload we send; longer writes are split, and streams take turns per frame.
    /// The default, 65506, makes a full frame with its 12-byte header exactly the plaintext of one full Noise transport
    /// message as ToolNet sends it (65518 bytes, 64 KiB on the wire), so that bulk data is never split across two
    /// Noise messages.</summary>
    public int MaxDataFrameSize { get; init; } = DefaultMaxDataFrameSize;

    /// <summary>How many written-but-unsent bytes a stream's <c>Output</c> buffers before its FlushAsync waits.</summary>
    public int StreamSendBufferSize { get; init; } = 256 * 1024;

    /// <summary>How often to ping the remote to keep the connection alive and to measure the RTT; null disables
    /// keep-alive (one ping at the start still measures the RTT).</summary>
    public TimeSpan? KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keep-alive ping may stay unanswered before the connection is closed as dead.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long closing may spend flushing the go-away frame and queued frames before it gives up.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Control frames (ping answers, refusals) queued for sending at most; a remote that makes us queue
    /// more without reading them is closed as misbehaving (ping answers beyond this are dropped instead).</summary>
    public int MaxQueuedControlFrames { get; init; } = 1024;

    /// <summary>The clock for RTT measurement, window auto-tuning and keep-alive.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamWindowSize, SpecInitialWindowSize, nameof(InitialStreamWindowSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStreamWindowSize, InitialStreamWindowSize, nameof(MaxStreamWindowSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxStreamWindowSize, 1 << 30, nameof(MaxStreamWindowSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionReceiveBuffer, InitialStreamWindowSize, nameof(MaxConnectionReceiveBuffer));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInboundStreams, 1, nameof(MaxInboundStreams));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUnacknowledgedOutboundStreams, 1, nameof(MaxUnacknowledgedOutboundStreams));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDataFrameSize, 1, nameof(MaxDataFrameSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamSendBufferSize, 1, nameof(StreamSendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedControlFrames, 1, nameof(MaxQueuedControlFrames));
        if (KeepAliveInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(KeepAliveInterval));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAliveTimeout, TimeSpan.Zero, nameof(KeepAliveTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(CloseTimeout, TimeSpan.Zero, nameof(CloseTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
