using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// One yamux stream. Received data lands in a receive pipe (bounded by the receive window, never by pausing, so the
/// session's read loop never waits for a slow reader); written data waits in a send pipe until the session's write
/// loop sends it within the remote's window.
/// <para>Ownership, which is what keeps this free of races: the receive pipe's writer is used only under the stream
/// lock (by the read loop, and to complete it from any thread); its reader belongs to the application. The send
/// pipe's writer belongs to the application; its reader to the write loop (and, once both loops have ended, to the
/// session's teardown).</para>
/// <para><see cref="DisposeAsync"/> closes gracefully: it half-closes our side (FIN after the buffered data) and
/// stops reading; data the remote sends after that resets the stream. <see cref="Reset"/> aborts.</para>
/// </summary>
public sealed class YamuxStream : IMuxedStream
{
    private const int LargeBufferSizeHint = 64 * 1024;

    private readonly YamuxSession _session;
    private readonly Lock _sync = new();
    private readonly Pipe _receivePipe;
    private readonly Pipe _sendPipe;
    private readonly YamuxStreamInput _input;
    private readonly YamuxStreamOutput _output;
    private readonly YamuxReceiveWindow _receiveWindow;

    // Guarded by _sync.
    private long _sendWindow = YamuxOptions.SpecInitialWindowSize;
    private YamuxFrameFlags _pendingFlags;
    private uint _pendingWindowDelta;
    private bool _remoteKnowsStream;
    private bool _remoteFinReceived;
    private bool _receiveCompleted;
    private bool _finSent;
    private bool _rstSent;
    private bool _removed;
    private StreamResetException? _resetError;
    private ResetOrigin _resetOrigin;

    // Owned by the write loop (then by teardown).
    private bool _sendCompleted;

    private int _scheduled;
    private int _backlogSlotReleased;
    private int _disposed;

    /// <summary>A new stream holding <see cref="YamuxOptions.InitialStreamWindowSize"/> bytes of
    /// <paramref name="budget"/>, which the caller has reserved.</summary>
    internal YamuxStream(YamuxSession session, uint streamId, Direction direction, YamuxOptions options, TimeSpan now, YamuxReceiveBudget budget)
    {
        _session = session;
        StreamId = streamId;
        Direction = direction;
        _receiveWindow = new YamuxReceiveWindow(options.MaxStreamWindowSize, now, budget, options.InitialStreamWindowSize);

        // The window bounds what can be buffered, so the receive pipe never pauses its writer: the read loop must
        // not wait on one stream's reader (pauseWriterThreshold 0 disables pausing).
        _receivePipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        _sendPipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.StreamSendBufferSize,
            resumeWriterThreshold: Math.Max(1, options.StreamSendBufferSize / 2),
            useSynchronizationContext: false));
        _input = new YamuxStreamInput(this, _receivePipe.Reader);
        _output = new YamuxStreamOutput(this, _sendPipe.Writer);

        if (direction == Direction.Outbound)
        {
            // The SYN goes out with our first frame, which the session schedules right away.
            _pendingFlags = YamuxFrameFlags.Syn;
            _pendingWindowDelta = _receiveWindow.Grant(options.InitialStreamWindowSize);
        }
        else
        {
            _remoteKnowsStream = true;
        }
    }

    private enum ResetOrigin
    {
        None,
        Local,
        Remote,
        Session,
    }

    /// <summary>The yamux stream id: odd when the client (dialer) opened it, even for the server.</summary>
    public uint StreamId { get; }

    /// <inheritdoc />
    public long Id => StreamId;

    /// <inheritdoc />
    public Direction Direction { get; }

    /// <inheritdoc />
    public PipeReader Input => _input;

    /// <inheritdoc />
    public PipeWriter Output => _output;

    /// <summary>The current receive window of this stream; auto-tuning grows it from 256 KiB up to
    /// <see cref="YamuxOptions.MaxStreamWindowSize"/>, as far as the connection's receive budget
    /// (<see cref="YamuxOptions.MaxConnectionReceiveBuffer"/>) allows.</summary>
    public long ReceiveWindowSize
    {
        get
        {
            lock (_sync)
            {
                return _receiveWindow.WindowSize;
            }
        }
    }

    /// <summary>How many bytes we may still send before the remote grants more.</summary>
    internal long SendWindow
    {
        get
        {
            lock (_sync)
            {
                return _sendWindow;
            }
        }
    }

    /// <summary>Received bytes the application has not consumed yet.</summary>
    internal long BufferedReceiveBytes
    {
        get
        {
            lock (_sync)
            {
                return _receiveWindow.Buffered;
            }
        }
    }

    /// <summary>The bytes of the connection's receive budget this stream holds (see
    /// <see cref="YamuxSession.ReservedReceiveBytes"/>).</summary>
    internal long ReservedReceiveBytes
    {
        get
        {
            lock (_sync)
            {
                return _receiveWindow.Reserved;
            }
        }
    }

    internal bool IsReset
    {
        get
        {
            lock (_sync)
            {
                return _resetError is not null;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask CloseWriteAsync(CancellationToken cancellationToken = default)
    {
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _output.Complete();
    }

    /// <inheritdoc />
    public void Reset() => ResetLocally("the stream was reset locally");

    /// <summary>Half-closes our side (FIN after what was written) and stops reading; see the type's remarks. A read
    /// pending on another task fails with <see cref="ObjectDisposedException"/>; a pending flush returns.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _output.Complete();

            // Completing a PipeWriter does not wake its pending flush; the data stays queued for sending either way.
            _sendPipe.Writer.CancelPendingFlush();
            _input.Complete();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override string ToString() => $"yamux stream {StreamId} ({Direction})";

    // ---- called by the session's read loop ----

    /// <summary>Accounts for an incoming data frame; false when it exceeds the window we granted.</summary>
    internal bool TryBeginReceive(uint length)
    {
        lock (_sync)
        {
            return _receiveWindow.TryReceive(length);
        }
    }

    /// <summary>Hands received payload bytes to the reader (part of a data frame, possibly).</summary>
    internal void Deliver(in ReadOnlySequence<byte> payload)
    {
        string? resetReason = null;
        lock (_sync)
        {
            if (_resetError is not null)
            {
                return;
            }

            if (_receiveCompleted)
            {
                resetReason = _remoteFinReceived ? "the remote sent data after its FIN" : "data arrived after the reader closed";
            }
            else
            {
                var writer = _receivePipe.Writer;
                foreach (var segment in payload)
                {
                    CopyInLargeBuffers(writer, segment.Span);
                }

                _receiveWindow.OnDelivered(payload.Length);

                // Never pauses (see the constructor), so this completes synchronously, inside the lock that keeps a
                // concurrent Reset from completing the pipe under our feet.
                var flush = writer.FlushAsync();
                Debug.Assert(flush.IsCompleted, "the receive pipe never pauses");
            }
        }

        if (resetReason is not null)
        {
            ResetLocally(resetReason);
        }
    }

    /// <summary>Copies into buffers sized for the data (up to a full data frame) rather than the pipe's minimum
    /// segments of 4 KiB, which <c>Write</c> would use: fewer segments to rent, link and return per frame, and no run on
    /// the shared pool's small buckets (which, once empty, allocate).</summary>
    internal static void CopyInLargeBuffers(IBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var destination = writer.GetSpan(Math.Min(data.Length, LargeBufferSizeHint));
            var length = Math.Min(destination.Length, data.Length);
            data[..length].CopyTo(destination);
            writer.Advance(length);
            data = data[length..];
        }
    }

    internal void OnRemoteFin()
    {
        bool remove;
        lock (_sync)
        {
            if (_remoteFinReceived || _resetError is not null)
            {
                return;
            }

            _remoteFinReceived = true;
            CompleteReceiveLocked(null);
            remove = _finSent && TryMarkRemovedLocked();
        }

        if (remove)
        {
            _session.RemoveStream(this);
        }
    }

    internal void OnRemoteReset()
    {
        lock (_sync)
        {
            if (_resetError is not null || _removed)
            {
                return;
            }

            _resetOrigin = ResetOrigin.Remote;
            _resetError = new StreamResetException("the remote reset the stream");
            CompleteReceiveLocked(_resetError);
        }

        ReleaseBacklogSlot();
        _sendPipe.Writer.CancelPendingFlush();
        ScheduleSend();
    }

    /// <summary>Grows the send window; false when it would exceed 2^32-1, which is a protocol error.</summary>
    internal bool OnWindowUpdate(uint delta)
    {
        lock (_sync)
        {
            if (_sendWindow + delta > uint.MaxValue)
            {
                return false;
            }

            _sendWindow += delta;
        }

        if (delta > 0)
        {
            ScheduleSend();
        }

        return true;
    }

    internal void OnAcknowledged() => ReleaseBacklogSlot();

    // ---- called by the session on accept and at teardown ----

    /// <summary>The application accepted the stream: the ACK (and any extra initial window) goes with our next frame.
    /// False when the stream is already dead.</summary>
    internal bool TryAccept(int initialWindowSize)
    {
        lock (_sync)
        {
            if (_resetError is not null)
            {
                return false;
            }

            _pendingFlags |= YamuxFrameFlags.Ack;
            _pendingWindowDelta += _receiveWindow.Grant(initialWindowSize);
        }

        ScheduleSend();
        return true;
    }

    /// <summary>The session ended: whatever direction is still open is aborted with <paramref name="error"/>.
    /// Runs after both session loops have ended, so the send pipe's reader is ours.</summary>
    internal void AbortBySession(StreamResetException error)
    {
        lock (_sync)
        {
            if (_removed)
            {
                return;
            }

            _removed = true;
            if (_resetError is null)
            {
                _resetOrigin = ResetOrigin.Session;
                _resetError = error;
            }

            CompleteReceiveLocked(_resetError);
        }

        CompleteSend(_resetError);
        _session.RemoveStream(this);
    }

    // ---- called by the session's write loop ----

    /// <summary>Writes what this stream has to send now (a reset, a window update, the SYN/ACK, one data frame, the
    /// FIN) straight into <paramref name="transport"/>; returns the bytes written.</summary>
    internal int WritePendingFrames(PipeWriter transport, int maxDataFrameSize)
    {
        Interlocked.Exchange(ref _scheduled, 0);
        var hasData = false;
        ReadResult result = default;
        if (!_sendCompleted)
        {
            hasData = _sendPipe.Reader.TryRead(out result);
        }

        var data = hasData ? result.Buffer : default;
        StreamResetException? reset;
        bool sendRst = false;
        bool remove;
        bool more = false;
        bool fin = false;
        long length = 0;
        uint delta = 0;
        var flags = YamuxFrameFlags.None;
        lock (_sync)
        {
            reset = _resetError;
            if (reset is not null)
            {
                sendRst = _resetOrigin == ResetOrigin.Local && !_rstSent && _remoteKnowsStream;
                _rstSent = true;
                remove = TryMarkRemovedLocked();
            }
            else
            {
                length = Math.Min(Math.Min(data.Length, _sendWindow), maxDataFrameSize);
                _sendWindow -= length;
                fin = hasData && result.IsCompleted && length == data.Length;
                delta = _pendingWindowDelta;
                _pendingWindowDelta = 0;
                flags = _pendingFlags;
                if (delta > 0 || length > 0 || fin || flags != YamuxFrameFlags.None)
                {
                    _pendingFlags = YamuxFrameFlags.None;
                    _remoteKnowsStream = true;
                }

                _finSent |= fin;
                remove = fin && _remoteFinReceived && TryMarkRemovedLocked();
                more = !fin && data.Length > length && _sendWindow > 0;
            }
        }

        int written;
        if (reset is not null)
        {
            written = 0;
            if (sendRst)
            {
                YamuxFrameHeader.WindowUpdate(StreamId, YamuxFrameFlags.Rst, 0).Write(transport);
                written = YamuxFrameHeader.Size;
            }

            if (hasData)
            {
                _sendPipe.Reader.AdvanceTo(data.End);
            }

            CompleteSend(reset);
        }
        else
        {
            written = WriteFrames(transport, data.Slice(0, length), flags, delta, fin);
            if (hasData)
            {
                _sendPipe.Reader.AdvanceTo(data.GetPosition(length));
            }

            if (fin)
            {
                CompleteSend(null);
            }
            else if (more)
            {
                ScheduleSend();
            }
        }

        if (remove)
        {
            _session.RemoveStream(this);
        }

        return written;
    }

    private int WriteFrames(PipeWriter transport, in ReadOnlySequence<byte> payload, YamuxFrameFlags flags, uint delta, bool fin)
    {
        var written = 0;

        // SYN/ACK ride on the first frame; a window delta needs a window update of its own.
        if (delta > 0 || (flags != YamuxFrameFlags.None && payload.IsEmpty && !fin))
        {
            YamuxFrameHeader.WindowUpdate(StreamId, flags, delta).Write(transport);
            written += YamuxFrameHeader.Size;
            flags = YamuxFrameFlags.None;
        }

        if (!payload.IsEmpty)
        {
            // Header and payload go into one buffer: a full frame is then one contiguous block, which the security
            // layer below encrypts as one message without gathering it first.
            var frame = transport.GetSpan(YamuxFrameHeader.Size + (int)Math.Min(payload.Length, LargeBufferSizeHint));
            YamuxFrameHeader.Data(StreamId, flags, (uint)payload.Length).Write(frame);
            var inline = (int)Math.Min(payload.Length, frame.Length - YamuxFrameHeader.Size);
            payload.Slice(0, inline).CopyTo(frame[YamuxFrameHeader.Size..]);
            transport.Advance(YamuxFrameHeader.Size + inline);
            foreach (var segment in payload.Slice(inline))
            {
                CopyInLargeBuffers(transport, segment.Span);
            }

            written += YamuxFrameHeader.Size + (int)payload.Length;
            flags = YamuxFrameFlags.None;
        }

        // The spec lets FIN ride on a data frame with payload, but against js-libp2p's yamux (8.0.1) the payload of
        // such a frame was seen to get lost; so the FIN always travels in a zero-length data frame of its own.
        if (fin)
        {
            YamuxFrameHeader.Data(StreamId, flags | YamuxFrameFlags.Fin, 0).Write(transport);
            written += YamuxFrameHeader.Size;
        }

        return written;
    }

    // ---- called through Input and Output by the application ----

    internal void OnConsumed(long bytes)
    {
        bool schedule = false;
        lock (_sync)
        {
            // Once the stream can receive no more (FIN, reset), this only gives the consumed bytes back to the budget.
            var delta = _receiveWindow.OnConsumed(bytes, _session.Now, _session.RoundTripTime);
            if (delta > 0)
            {
                _pendingWindowDelta += delta;
                schedule = true;
            }
        }

        if (schedule)
        {
            ScheduleSend();
        }
    }

    internal void OnReaderCompleted()
    {
        lock (_sync)
        {
            // Completing the writer too lets the pipe return its buffers, and wakes a read pending on another task
            // when we are disposed from there; later data resets the stream.
            CompleteReceiveLocked(Volatile.Read(ref _disposed) == 0 ? null : new ObjectDisposedException(ToString()));
            _receiveWindow.Discard();
        }
    }

    /// <summary>The session drops a stream the application never accepted (the session closed, or the stream was
    /// reset first): what it buffered goes, and with it the stream's reservation.</summary>
    internal void DiscardUnaccepted() => _input.Complete();

    internal void ThrowIfReadReset()
    {
        lock (_sync)
        {
            if (_resetError is not null && !(_resetOrigin == ResetOrigin.Session && _remoteFinReceived))
            {
                throw new StreamResetException(_resetError.Message, _resetError);
            }
        }
    }

    internal void ThrowIfWriteReset()
    {
        lock (_sync)
        {
            if (_resetError is not null)
            {
                throw new StreamResetException(_resetError.Message, _resetError);
            }
        }
    }

    internal void ResetLocally(string reason)
    {
        lock (_sync)
        {
            if (_resetError is not null || _removed || (_finSent && _remoteFinReceived))
            {
                return;
            }

            _resetOrigin = ResetOrigin.Local;
            _resetError = new StreamResetException(reason);
            CompleteReceiveLocked(_resetError);
        }

        ReleaseBacklogSlot();
        _sendPipe.Writer.CancelPendingFlush();
        ScheduleSend();
    }

    internal void ScheduleSend()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) == 0)
        {
            _session.ScheduleSend(this);
        }
    }

    private void CompleteReceiveLocked(Exception? error)
    {
        if (!_receiveCompleted)
        {
            _receiveCompleted = true;
            _receivePipe.Writer.Complete(error);
            _receiveWindow.Close();
        }
    }

    private void CompleteSend(Exception? error)
    {
        if (!_sendCompleted)
        {
            _sendCompleted = true;
            _sendPipe.Reader.Complete(error);
        }
    }

    private bool TryMarkRemovedLocked()
    {
        if (_removed)
        {
            return false;
        }

        _removed = true;
        return true;
    }

    internal void ReleaseBacklogSlot()
    {
        if (Direction == Direction.Outbound && Interlocked.Exchange(ref _backlogSlotReleased, 1) == 0)
        {
            _session.ReleaseOutboundBacklogSlot();
        }
    }
}
