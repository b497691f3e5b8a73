using System.Diagnostics;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// Receive-side flow control of one stream, with window auto-tuning and the stream's share of the connection's
/// receive budget. Pure bookkeeping: no I/O, no clock of its own (the caller passes the time), not thread-safe (the
/// stream's lock guards it; the budget it draws on is thread-safe).
/// <para>
/// Invariant while open: <c>Credit + Buffered + in-flight + consumed-not-yet-credited == WindowSize &lt;= Reserved</c>,
/// where Credit is what the remote may still send and in-flight the rest of a data frame whose header has arrived.
/// Both sides start from <see cref="YamuxOptions.SpecInitialWindowSize"/>; a larger initial window is granted with
/// the SYN or ACK (libp2p/specs yamux/README.md, "Flow Control").
/// </para>
/// <para>
/// Update rule: once the application has consumed half the window, the consumed bytes are granted back in one
/// window update (fewer, larger updates than one per read).
/// </para>
/// <para>
/// Auto-tuning rule: a sender held back by the window can have at most one window in flight per round trip. So
/// when the reader consumed half a window within two round trips of the previous update (the "epoch"), the window,
/// not the network or the reader, limits the stream, and the window doubles, up to the maximum, if the connection's
/// budget can cover the growth (otherwise it stays as it is). A slow reader or a bandwidth-limited path takes longer
/// than that and never grows the window, so memory is only spent on streams that turn it into throughput. Without an
/// RTT measurement yet, the window does not grow.
/// </para>
/// <para>
/// Release rule: once the stream can receive no more (<see cref="Close"/>), the reservation shrinks to the bytes the
/// application has not consumed yet, and follows them down to zero as it consumes them (or at once when it stops
/// reading, <see cref="Discard"/>). Credit the remote still holds then only lets data in flight arrive; it is
/// checked, not buffered.
/// </para>
/// </summary>
internal sealed class YamuxReceiveWindow
{
    private readonly long _maxWindowSize;
    private readonly YamuxReceiveBudget _budget;
    private long _consumedSinceUpdate;
    private TimeSpan _epochStart;
    private bool _closed;

    /// <summary>A window of the spec's initial size, its first epoch starting at <paramref name="now"/>, holding
    /// <paramref name="reserved"/> bytes the caller has already reserved from <paramref name="budget"/> (at least the
    /// spec's initial window, which the remote may fill before any window update).</summary>
    public YamuxReceiveWindow(int maxWindowSize, TimeSpan now, YamuxReceiveBudget budget, long reserved)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(reserved, YamuxOptions.SpecInitialWindowSize);
        _maxWindowSize = maxWindowSize;
        _budget = budget;
        Reserved = reserved;
        WindowSize = YamuxOptions.SpecInitialWindowSize;
        Credit = WindowSize;
        _epochStart = now;
    }

    /// <summary>The current window: how many bytes may be buffered for this stream at most.</summary>
    public long WindowSize { get; private set; }

    /// <summary>How many bytes the remote may still send before it must wait for a window update.</summary>
    public long Credit { get; private set; }

    /// <summary>Bytes delivered to the application and not consumed yet.</summary>
    public long Buffered { get; private set; }

    /// <summary>The bytes of the connection's budget this stream holds.</summary>
    public long Reserved { get; private set; }

    /// <summary>Raises the window to <paramref name="windowSize"/> at once, within what is reserved; returns the delta
    /// to send with the SYN or ACK (0 when the window is already that large).</summary>
    public uint Grant(int windowSize)
    {
        if (windowSize <= WindowSize || _closed)
        {
            return 0;
        }

        if (windowSize > Reserved)
        {
            throw new InvalidOperationException($"a window of {windowSize} bytes exceeds the {Reserved} bytes reserved for it");
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

    /// <summary>Accounts for <paramref name="bytes"/> of a received frame handed to the application.</summary>
    public void OnDelivered(long bytes)
    {
        Debug.Assert(!_closed, "nothing is delivered once closed");
        Buffered += bytes;
    }

    /// <summary>Accounts for <paramref name="bytes"/> the application consumed; returns the window update delta to
    /// send now, or 0 when no update is due yet (or the stream can receive no more).</summary>
    public uint OnConsumed(long bytes, TimeSpan now, TimeSpan? roundTripTime)
    {
        Debug.Assert(bytes <= Buffered, "consumed more than was delivered");
        Buffered -= bytes;
        if (_closed)
        {
            ReleaseDownTo(Buffered);
            return 0;
        }

        _consumedSinceUpdate += bytes;
        if (_consumedSinceUpdate < WindowSize / 2)
        {
            return 0;
        }

        long growth = 0;
        if (roundTripTime is { } rtt && WindowSize < _maxWindowSize && now - _epochStart < 2 * rtt)
        {
            growth = Math.Min(WindowSize * 2, _maxWindowSize) - WindowSize;
            var uncovered = WindowSize + growth - Reserved;
            if (uncovered > 0 && !_budget.TryReserveGrowth(uncovered))
            {
                growth = 0;
            }
            else
            {
                Reserved += Math.Max(0, uncovered);
                WindowSize += growth;
            }
        }

        var delta = _consumedSinceUpdate + growth;
        Credit += delta;
        _consumedSinceUpdate = 0;
        _epochStart = now;
        return (uint)delta;
    }

    /// <summary>The stream can receive no more (FIN, reset, or the session ended): keeps only what the application
    /// has yet to consume reserved.</summary>
    public void Close()
    {
        _closed = true;
        ReleaseDownTo(Buffered);
    }

    /// <summary>The application stopped reading: what it had not consumed is dropped, and the whole reservation
    /// goes back.</summary>
    public void Discard()
    {
        _closed = true;
        Buffered = 0;
        ReleaseDownTo(0);
    }

    private void ReleaseDownTo(long reserved)
    {
        if (Reserved > reserved)
        {
            _budget.Release(Reserved - reserved);
            Reserved = reserved;
        }
    }
}
