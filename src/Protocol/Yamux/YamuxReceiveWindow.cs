namespace ToolNet.Protocol.Yamux;

/// <summary>
/// Receive-side flow control of one stream, with window auto-tuning. Pure bookkeeping: no I/O, no clock of its own
/// (the caller passes the time), not thread-safe (the stream's lock guards it).
/// <para>
/// Invariant: <c>Credit + buffered + consumed-not-yet-credited == WindowSize</c>, where Credit is what the remote
/// may still send. Both sides start from <see cref="YamuxOptions.SpecInitialWindowSize"/>; a larger initial window
/// is granted with the SYN or ACK (libp2p/specs yamux/README.md, "Flow Control").
/// </para>
/// <para>
/// Update rule: once the application has consumed half the window, the consumed bytes are granted back in one
/// window update (fewer, larger updates than one per read).
/// </para>
/// <para>
/// Auto-tuning rule: a sender held back by the window can have at most one window in flight per round trip. So
/// when the reader consumed half a window within two round trips of the previous update (the "epoch"), the window,
/// not the network or the reader, limits the stream, and the window doubles, up to the maximum. A slow reader or a
/// bandwidth-limited path takes longer than that and never grows the window, so memory is only spent on streams
/// that turn it into throughput. Without an RTT measurement yet, the window does not grow.
/// </para>
/// </summary>
internal sealed class YamuxReceiveWindow
{
    private readonly long _maxWindowSize;
    private long _consumedSinceUpdate;
    private TimeSpan _epochStart;

    /// <summary>A window of the spec's initial size, its first epoch starting at <paramref name="now"/>.</summary>
    public YamuxReceiveWindow(int maxWindowSize, TimeSpan now)
    {
        _maxWindowSize = maxWindowSize;
        WindowSize = YamuxOptions.SpecInitialWindowSize;
        Credit = WindowSize;
        _epochStart = now;
    }

    /// <summary>The current window: how many bytes may be buffered for this stream at most.</summary>
    public long WindowSize { get; private set; }

    /// <summary>How many bytes the remote may still send before it must wait for a window update.</summary>
    public long Credit { get; private set; }

    /// <summary>Raises the window to <paramref name="windowSize"/> at once; returns the delta to send with the SYN
    /// or ACK (0 when the window is already that large).</summary>
    public uint Grant(int windowSize)
    {
        if (windowSize <= WindowSize)
        {
            return 0;
        }

        var delta = windowSize - WindowSize;
        WindowSize = windowSize;
        Credit += delta;
        return (uint)delta;
    }

    /// <summary>Accounts for a data frame of <paramref name="length"/> bytes; false when it exceeds the credit,
    /// which is a protocol error.</summary>
    public bool TryReceive(uint length)
    {
        if (length > Credit)
        {
            return false;
        }

        Credit -= length;
        return true;
    }

    /// <summary>Accounts for <paramref name="bytes"/> the application consumed; returns the window update delta to
    /// send now, or 0 when no update is due yet.</summary>
    public uint OnConsumed(long bytes, TimeSpan now, TimeSpan? roundTripTime)
    {
        _consumedSinceUpdate += bytes;
        if (_consumedSinceUpdate < WindowSize / 2)
        {
            return 0;
        }

        long growth = 0;
        if (roundTripTime is { } rtt && WindowSize < _maxWindowSize && now - _epochStart < 2 * rtt)
        {
            growth = Math.Min(WindowSize * 2, _maxWindowSize) - WindowSize;
            WindowSize += growth;
        }

        var delta = _consumedSinceUpdate + growth;
        Credit += delta;
        _consumedSinceUpdate = 0;
        _epochStart = now;
        return (uint)delta;
    }
}
