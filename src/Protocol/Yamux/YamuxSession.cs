using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// A yamux session (<c>/yamux/1.0.0</c>) over a secured transport. Three loops: the read loop parses frames and
/// dispatches them without ever waiting (data goes into per-stream buffers bounded by the windows we granted, so one
/// slow stream cannot block the others); the write loop is the only writer of the transport and takes streams in
/// turn, one data frame each; the keep-alive loop pings. A remote that breaks the protocol (a bad header, data
/// beyond the window, a SYN with our parity) gets a go-away with the protocol-error code and the session closes;
/// <see cref="Completion"/> then faults with a <see cref="WireFormatException"/> saying why.
/// <para>Receive memory: every byte of receive window the session grants is first reserved against
/// <see cref="YamuxOptions.MaxConnectionReceiveBuffer"/> (see <see cref="ReservedReceiveBytes"/>), so that the data
/// one connection can make us buffer, over all its streams, stays within that budget.</para>
/// </summary>
public sealed class YamuxSession : IMuxedConnection
{
    // Frames written between flushes of the transport: every flush is a pass of the security layer and a send
    // system call, so a bulk transfer flushes every four full frames (256 KiB).
    private const int FlushThreshold = 4 * (YamuxOptions.DefaultMaxDataFrameSize + YamuxFrameHeader.Size);

    private readonly IDuplexPipe _transport;
    private readonly YamuxOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _startTimestamp;
    private readonly ConcurrentDictionary<uint, YamuxStream> _streams = new();
    private readonly Channel<YamuxStream?> _writeQueue = Channel.CreateUnbounded<YamuxStream?>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });
    private readonly ConcurrentQueue<YamuxFrameHeader> _controlFrames = new();
    private readonly Channel<YamuxStream> _acceptQueue = Channel.CreateUnbounded<YamuxStream>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true, AllowSynchronousContinuations = false });
    private readonly SemaphoreSlim _outboundBacklog;
    private readonly ConcurrentDictionary<uint, PendingPing> _pendingPings = new();
    private readonly CancellationTokenSource _shutdown = new();
    private readonly CancellationTokenSource _writeAbort = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();
    private readonly YamuxReceiveBudget _receiveBudget;
    private readonly IMuxerResources _resources;

    // Guarded by _stateLock.
    private long _nextOutboundId;
    private bool _shutdownStarted;
    private Exception? _closeError;

    private int _activeStreams;
    private int _inboundStreams;
    private int _queuedControlFrames;
    private long _refusedInboundStreams;
    private long _overBudgetInboundStreams;
    private int _nextPingId;
    private long _roundTripTicks = -1;
    private long _remoteGoAwayCode = -1;
    private Task _run = Task.CompletedTask;

    // Read loop state: the data frame whose payload is being received, when it spans several reads.
    private YamuxStream? _receivingStream;
    private uint _receivingRemaining;
    private bool _receivingFin;

    internal YamuxSession(IDuplexPipe transport, Direction direction, YamuxOptions options, ILogger logger, IMuxerResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _transport = transport;
        _options = options;
        _logger = logger;
        _time = options.TimeProvider;
        _startTimestamp = _time.GetTimestamp();
        Direction = direction;

        // libp2p/specs yamux/README.md, "StreamID Field": the client uses odd ids, the server even ones.
        _nextOutboundId = direction == Direction.Outbound ? 1 : 2;
        _outboundBacklog = new SemaphoreSlim(options.MaxUnacknowledgedOutboundStreams, options.MaxUnacknowledgedOutboundStreams);
        _resources = resources;
        _receiveBudget = new YamuxReceiveBudget(options.MaxConnectionReceiveBuffer, resources);
    }

    /// <summary>Outbound: we dialed and are the yamux client (odd stream ids); inbound: the server (even ids).</summary>
    public Direction Direction { get; }

    /// <summary>The options this session runs with.</summary>
    public YamuxOptions Options => _options;

    /// <inheritdoc />
    public Task Completion => _completion.Task;

    /// <summary>Streams currently open in either direction (half-closed ones included, until both sides closed).</summary>
    public int ActiveStreamCount => Volatile.Read(ref _activeStreams);

    /// <summary>Inbound streams refused with RST because <see cref="YamuxOptions.MaxInboundStreams"/> were open.</summary>
    public long RefusedInboundStreamCount => Interlocked.Read(ref _refusedInboundStreams);

    /// <summary>Inbound streams refused with RST because <see cref="YamuxOptions.MaxConnectionReceiveBuffer"/> could
    /// not cover their initial window.</summary>
    public long OverBudgetInboundStreamCount => Interlocked.Read(ref _overBudgetInboundStreams);

    /// <summary>The bytes of <see cref="YamuxOptions.MaxConnectionReceiveBuffer"/> reserved now: the receive windows
    /// of the open streams, and what the application has not yet read of streams that can receive no more.</summary>
    public long ReservedReceiveBytes => _receiveBudget.Reserved;

    /// <summary>The most recent ping round-trip time, or null before the first answer.</summary>
    public TimeSpan? RoundTripTime
    {
        get
        {
            var ticks = Interlocked.Read(ref _roundTripTicks);
            return ticks < 0 ? null : TimeSpan.FromTicks(ticks);
        }
    }

    /// <summary>The code of the go-away the remote sent, or null if it has not. After a go-away no new outbound
    /// streams can be opened; existing ones carry on.</summary>
    public YamuxGoAwayCode? RemoteGoAwayCode
    {
        get
        {
            var code = Interlocked.Read(ref _remoteGoAwayCode);
            return code < 0 ? null : (YamuxGoAwayCode)code;
        }
    }

    internal TimeSpan Now => _time.GetElapsedTime(_startTimestamp);

    internal bool IsShutdownStarted
    {
        get
        {
            lock (_stateLock)
            {
                return _shutdownStarted;
            }
        }
    }

    /// <summary>Starts the read, write and keep-alive loops.</summary>
    internal void Start() => _run = RunAsync();

    /// <inheritdoc />
    public async ValueTask<IMuxedStream> OpenStreamAsync(CancellationToken cancellationToken = default) =>
        await OpenYamuxStreamAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Opens a new outbound stream; the SYN is sent at once. Waits while
    /// <see cref="YamuxOptions.MaxUnacknowledgedOutboundStreams"/> of our streams are unacknowledged.</summary>
    /// <remarks>The stream's initial receive window is reserved against
    /// <see cref="YamuxOptions.MaxConnectionReceiveBuffer"/> first: the remote may send that much as soon as it
    /// sees the SYN. Without room the open fails at once rather than waiting, as the room is only freed by the
    /// application ending or reading other streams, which a waiting caller may itself be holding up.</remarks>
    /// <exception cref="YamuxReceiveBudgetExceededException">The connection's receive budget cannot cover the new
    /// stream's initial window; ending or reading other streams frees room.</exception>
    /// <exception cref="IOException">The session is closed, the remote sent go-away, or the node's streams or
    /// receive memory (<see cref="IMuxerResources"/>) are used up.</exception>
    public async ValueTask<YamuxStream> OpenYamuxStreamAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCannotOpen();
        if (!_outboundBacklog.Wait(0, CancellationToken.None))
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            try
            {
                await _outboundBacklog.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new IOException("the yamux session closed");
            }
        }

        YamuxStream stream;
        lock (_stateLock)
        {
            var refusal = _shutdownStarted ? "the yamux session closed"
                : RemoteGoAwayCode is not null ? "the remote sent go-away; no new streams"
                : _nextOutboundId > uint.MaxValue ? "the yamux stream ids are exhausted"
                : null;
            if (refusal is not null)
            {
                _outboundBacklog.Release();
                throw new IOException(refusal);
            }

            if (!_resources.TryAddStream())
            {
                _outboundBacklog.Release();
                throw new IOException("the node has as many streams open as it allows");
            }

            if (!_receiveBudget.TryReserve(_options.InitialStreamWindowSize, out var nodeFull))
            {
                _resources.RemoveStream();
                _outboundBacklog.Release();
                throw nodeFull
                    ? new IOException($"the node's receive memory cannot cover a new stream's initial window of {_options.InitialStreamWindowSize} bytes")
                    : new YamuxReceiveBudgetExceededException(_options.InitialStreamWindowSize, _receiveBudget.Reserved, _receiveBudget.Capacity);
            }

            var id = (uint)_nextOutboundId;
            _nextOutboundId += 2;
            stream = new YamuxStream(this, id, Direction.Outbound, _options, Now, _receiveBudget);
            _streams[id] = stream;
            Interlocked.Increment(ref _activeStreams);
        }

        stream.ScheduleSend();
        return stream;
    }

    /// <inheritdoc />
    public async ValueTask<IMuxedStream?> AcceptStreamAsync(CancellationToken cancellationToken = default) =>
        await AcceptYamuxStreamAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Waits for the next inbound stream; null once the session has closed.</summary>
    /// <remarks>The ACK goes out when the application accepts the stream, with the extra initial window if any.
    /// libp2p/specs yamux/README.md ("ACK backlog") says not to acknowledge implicitly but to wait for the application
    /// to send its first DATA frame; acknowledging on accept is still the application's act, and it keeps a stream
    /// that we only ever read from (the remote only writes) from counting against the remote's backlog of 256
    /// unacknowledged streams for its whole life.</remarks>
    public async ValueTask<YamuxStream?> AcceptYamuxStreamAsync(CancellationToken cancellationToken = default)
    {
        var reader = _acceptQueue.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var stream))
            {
                if (!IsShutdownStarted && stream.TryAccept(_options.InitialStreamWindowSize))
                {
                    return stream;
                }

                stream.DiscardUnaccepted();
            }
        }

        return null;
    }

    /// <summary>Sends a ping and returns the round-trip time when the answer arrives.</summary>
    /// <exception cref="IOException">The session closed before the answer.</exception>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var opaque = unchecked((uint)Interlocked.Increment(ref _nextPingId));
        var ping = new PendingPing(_time.GetTimestamp());
        _pendingPings[opaque] = ping;
        try
        {
            if (!TryEnqueueControl(YamuxFrameHeader.Ping(YamuxFrameFlags.Syn, opaque)))
            {
                throw new IOException(IsShutdownStarted ? "the yamux session closed" : "too many yamux control frames queued");
            }

            return await ping.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pendingPings.TryRemove(opaque, out _);
        }
    }

    /// <summary>Sends go-away (normal termination), flushes what is queued (within
    /// <see cref="YamuxOptions.CloseTimeout"/>), then closes the transport; open streams are aborted. Cancelling
    /// stops the flushing at once.</summary>
    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        Shutdown(null, YamuxGoAwayCode.Normal);
        using (cancellationToken.Register(static state => ((YamuxSession)state!).AbortWrites(), this))
        {
            await _run.ConfigureAwait(false);
        }
    }

    /// <summary>The same as <see cref="CloseAsync"/>.</summary>
    public ValueTask DisposeAsync() => CloseAsync(CancellationToken.None);

    // ---- stream callbacks ----

    internal void ScheduleSend(YamuxStream stream) => _writeQueue.Writer.TryWrite(stream);

    internal void RemoveStream(YamuxStream stream)
    {
        _streams.TryRemove(new KeyValuePair<uint, YamuxStream>(stream.StreamId, stream));
        Interlocked.Decrement(ref _activeStreams);
        _resources.RemoveStream();
        if (stream.Direction == Direction.Inbound)
        {
            Interlocked.Decrement(ref _inboundStreams);
        }

        stream.ReleaseBacklogSlot();
    }

    internal void ReleaseOutboundBacklogSlot() => _outboundBacklog.Release();

    // ---- the read side ----

    /// <summary>Dispatches every complete frame (and any payload bytes) at the start of <paramref name="buffer"/>,
    /// leaving the rest in it. Never waits. Returns false when the remote broke the protocol: the session is then
    /// shutting down with a go-away, and the reason is logged.</summary>
    internal bool ProcessReceived(ref ReadOnlySequence<byte> buffer)
    {
        try
        {
            while (true)
            {
                if (_receivingRemaining > 0)
                {
                    if (buffer.IsEmpty)
                    {
                        return true;
                    }

                    var chunk = (uint)Math.Min(_receivingRemaining, buffer.Length);
                    _receivingStream?.Deliver(buffer.Slice(0, chunk));
                    buffer = buffer.Slice(chunk);
                    _receivingRemaining -= chunk;
                    if (_receivingRemaining == 0)
                    {
                        EndDataFrame();
                    }

                    continue;
                }

                if (!YamuxFrameHeader.TryRead(buffer, out var header))
                {
                    return true;
                }

                buffer = buffer.Slice(YamuxFrameHeader.Size);
                HandleFrame(header);
            }
        }
        catch (WireFormatException ex)
        {
            YamuxLog.ProtocolViolation(_logger, ex.Message);
            Shutdown(ex, YamuxGoAwayCode.ProtocolError);
            return false;
        }
    }

    private void HandleFrame(YamuxFrameHeader header)
    {
        switch (header.Type)
        {
            case YamuxFrameType.Ping:
                HandlePing(header);
                break;
            case YamuxFrameType.GoAway:
                Interlocked.Exchange(ref _remoteGoAwayCode, header.Length);
                YamuxLog.RemoteGoAway(_logger, header.Length);
                break;
            default:
                HandleStreamFrame(header);
                break;
        }
    }

    private void HandlePing(YamuxFrameHeader header)
    {
        if (header.Has(YamuxFrameFlags.Syn))
        {
            // Answers beyond the control-frame limit are dropped: a remote flooding pings without reading the
            // answers only loses answers.
            TryEnqueueControl(YamuxFrameHeader.Ping(YamuxFrameFlags.Ack, header.Length));
        }
        else if (header.Has(YamuxFrameFlags.Ack) && _pendingPings.TryRemove(header.Length, out var ping))
        {
            // Measured here, on arrival, not after the waiting caller has been scheduled.
            var rtt = _time.GetElapsedTime(ping.StartTimestamp);
            Interlocked.Exchange(ref _roundTripTicks, rtt.Ticks);
            ping.TrySetResult(rtt);
        }
    }

    private void HandleStreamFrame(YamuxFrameHeader header)
    {
        var isData = header.Type == YamuxFrameType.Data;
        if (header.StreamId == 0)
        {
            throw new WireFormatException($"a yamux {header.Type} frame on stream 0, which is reserved for the session");
        }

        if (isData && header.Length > _options.MaxStreamWindowSize)
        {
            throw new WireFormatException($"a yamux data frame of {header.Length} bytes on stream {header.StreamId}, larger than any window we grant");
        }

        _streams.TryGetValue(header.StreamId, out var stream);
        if (header.Has(YamuxFrameFlags.Syn))
        {
            if (stream is not null)
            {
                throw new WireFormatException($"the remote opened yamux stream {header.StreamId} twice");
            }

            if ((header.StreamId % 2 == 1) == (Direction == Direction.Outbound))
            {
                throw new WireFormatException($"the remote opened yamux stream {header.StreamId}, which has our parity");
            }

            stream = TryCreateInboundStream(header.StreamId);
        }

        if (stream is null)
        {
            // A stream we reset or refused, or that has closed: frames still in flight are dropped.
            BeginDataFrame(null, isData ? header.Length : 0, false);
            return;
        }

        if (header.Has(YamuxFrameFlags.Ack))
        {
            stream.OnAcknowledged();
        }

        if (isData)
        {
            if (!stream.TryBeginReceive(header.Length))
            {
                throw new WireFormatException($"yamux stream {header.StreamId} received a {header.Length}-byte data frame beyond the window we granted");
            }
        }
        else if (!stream.OnWindowUpdate(header.Length))
        {
            throw new WireFormatException($"a window update on yamux stream {header.StreamId} grows the send window beyond 2^32-1");
        }

        if (header.Has(YamuxFrameFlags.Rst))
        {
            stream.OnRemoteReset();
            BeginDataFrame(null, isData ? header.Length : 0, false);
            return;
        }

        BeginDataFrame(stream, isData ? header.Length : 0, header.Has(YamuxFrameFlags.Fin));
    }

    private void BeginDataFrame(YamuxStream? stream, uint length, bool fin)
    {
        _receivingStream = stream;
        _receivingRemaining = length;
        _receivingFin = fin;
        if (length == 0)
        {
            EndDataFrame();
        }
    }

    private void EndDataFrame()
    {
        // The FIN of a data frame applies after its payload.
        if (_receivingFin)
        {
            _receivingStream?.OnRemoteFin();
        }

        _receivingStream = null;
        _receivingFin = false;
    }

    private YamuxStream? TryCreateInboundStream(uint streamId)
    {
        string? refusal = null;
        if (IsShutdownStarted)
        {
            refusal = "the session is closing";
        }
        else if (Volatile.Read(ref _inboundStreams) >= _options.MaxInboundStreams)
        {
            Interlocked.Increment(ref _refusedInboundStreams);
            _resources.CountRefusedStream(StreamRefusal.ConnectionStreamLimit);
            refusal = $"{_options.MaxInboundStreams} inbound streams are open";
        }
        else if (!_resources.TryAddStream())
        {
            _resources.CountRefusedStream(StreamRefusal.NodeStreamLimit);
            refusal = "the node has as many streams open as it allows";
        }
        else if (!_receiveBudget.TryReserve(_options.InitialStreamWindowSize, out var nodeFull))
        {
            // The remote may send a whole initial window with its SYN (libp2p/specs yamux/README.md, "Flow Control":
            // "Both sides assume the initial 256KB window"), so a stream we cannot cover is refused before any of it.
            _resources.RemoveStream();
            Interlocked.Increment(ref _overBudgetInboundStreams);
            _resources.CountRefusedStream(nodeFull ? StreamRefusal.NodeMemoryLimit : StreamRefusal.ConnectionMemoryLimit);
            refusal = nodeFull
                ? $"its initial window of {_options.InitialStreamWindowSize} bytes does not fit the node's receive memory"
                : $"its initial window of {_options.InitialStreamWindowSize} bytes does not fit the connection's receive budget ({_receiveBudget.Reserved} of {_receiveBudget.Capacity} bytes reserved)";
        }

        if (refusal is not null)
        {
            YamuxLog.InboundStreamRefused(_logger, streamId, refusal);
            if (!TryEnqueueControl(YamuxFrameHeader.WindowUpdate(streamId, YamuxFrameFlags.Rst, 0)) && !IsShutdownStarted)
            {
                throw new WireFormatException($"the remote keeps opening streams without reading our {_options.MaxQueuedControlFrames} queued refusals");
            }

            return null;
        }

        var stream = new YamuxStream(this, streamId, Direction.Inbound, _options, Now, _receiveBudget);
        _streams[streamId] = stream;
        Interlocked.Increment(ref _activeStreams);
        Interlocked.Increment(ref _inboundStreams);
        _acceptQueue.Writer.TryWrite(stream);
        return stream;
    }

    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        Exception? error = null;
        var goAway = (YamuxGoAwayCode?)null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_shutdown.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                bool keepReading;
                try
                {
                    keepReading = ProcessReceived(ref buffer);
                }
                catch (Exception ex)
                {
                    goAway = YamuxGoAwayCode.InternalError;
                    throw new InvalidOperationException("yamux: failed to process a frame", ex);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (!keepReading || result.IsCanceled)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty || _receivingRemaining > 0)
                    {
                        error = new IOException("the connection closed in the middle of a yamux frame");
                    }

                    YamuxLog.RemoteClosed(_logger);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
            YamuxLog.ReadFailed(_logger, ex);
        }
        finally
        {
            await input.CompleteAsync(error).ConfigureAwait(false);
        }

        Shutdown(error, goAway);
    }

    // ---- the write side ----

    /// <summary>Queues a control frame unless <see cref="YamuxOptions.MaxQueuedControlFrames"/> are already waiting
    /// or the session is closing. Control frames go out before any stream's next frame, so that a pong is not held
    /// up behind the data of many busy streams (the remote's keep-alive would take that for a dead connection).</summary>
    private bool TryEnqueueControl(YamuxFrameHeader header)
    {
        if (IsShutdownStarted || Interlocked.Increment(ref _queuedControlFrames) > _options.MaxQueuedControlFrames)
        {
            Interlocked.Decrement(ref _queuedControlFrames);
            return false;
        }

        _controlFrames.Enqueue(header);

        // A null entry only wakes the write loop; if the queue has just been completed, the loop drains the control
        // frames on its way out anyway.
        _writeQueue.Writer.TryWrite(null);
        return true;
    }

    private int WriteControlFrames(PipeWriter output)
    {
        var written = 0;
        while (_controlFrames.TryDequeue(out var header))
        {
            header.Write(output);
            written += YamuxFrameHeader.Size;
            if (header.Type != YamuxFrameType.GoAway)
            {
                Interlocked.Decrement(ref _queuedControlFrames);
            }
        }

        return written;
    }

    private async Task WriteLoopAsync()
    {
        var output = _transport.Output;
        var reader = _writeQueue.Reader;
        Exception? error = null;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var unflushed = 0;
                while (reader.TryRead(out var stream))
                {
                    unflushed += WriteControlFrames(output);
                    if (stream is not null)
                    {
                        unflushed += stream.WritePendingFrames(output, _options.MaxDataFrameSize);
                    }

                    if (unflushed >= FlushThreshold)
                    {
                        await FlushAsync(output).ConfigureAwait(false);
                        unflushed = 0;
                    }
                }

                unflushed += WriteControlFrames(output);
                if (unflushed > 0)
                {
                    await FlushAsync(output).ConfigureAwait(false);
                }
            }

            if (WriteControlFrames(output) > 0)
            {
                await FlushAsync(output).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_writeAbort.IsCancellationRequested)
        {
            error = new IOException("yamux: gave up flushing the transport while closing");
        }
        catch (Exception ex)
        {
            error = ex;
            YamuxLog.WriteFailed(_logger, ex);
        }

        if (error is null)
        {
            await output.CompleteAsync().ConfigureAwait(false);
        }
        else
        {
            // With an error, the transport drops what is unflushed instead of waiting to write it.
            await output.CompleteAsync(error).ConfigureAwait(false);
            Shutdown(error, null);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync(PipeWriter output)
    {
        var result = await output.FlushAsync(_writeAbort.Token).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the transport flush was cancelled");
        }

        if (result.IsCompleted)
        {
            throw new IOException("the transport stopped accepting data");
        }
    }

    // ---- keep-alive ----

    private async Task KeepAliveLoopAsync()
    {
        var token = _shutdown.Token;
        try
        {
            // The first ping measures the RTT for window auto-tuning.
            await PingWithTimeoutAsync(token).ConfigureAwait(false);
            if (_options.KeepAliveInterval is not { } interval)
            {
                return;
            }

            while (true)
            {
                await Task.Delay(interval, _time, token).ConfigureAwait(false);
                await PingWithTimeoutAsync(token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (IOException) when (IsShutdownStarted)
        {
        }
        catch (TimeoutException ex)
        {
            YamuxLog.KeepAliveTimedOut(_logger, ex.Message);
            Shutdown(ex, null);
        }
        catch (Exception ex)
        {
            YamuxLog.KeepAliveFailed(_logger, ex);
            Shutdown(ex, YamuxGoAwayCode.InternalError);
        }
    }

    private async Task PingWithTimeoutAsync(CancellationToken token)
    {
        if (_options.KeepAliveInterval is null)
        {
            await PingAsync(token).ConfigureAwait(false);
            return;
        }

        using var timeout = new CancellationTokenSource(_options.KeepAliveTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
        try
        {
            await PingAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
        {
            throw new TimeoutException($"the remote did not answer a keep-alive ping within {_options.KeepAliveTimeout}");
        }
    }

    // ---- shutdown ----

    private async Task RunAsync()
    {
        try
        {
            var keepAlive = KeepAliveLoopAsync();
            await Task.WhenAll(ReadLoopAsync(), WriteLoopAsync()).ConfigureAwait(false);
            await _shutdown.CancelAsync().ConfigureAwait(false);
            await keepAlive.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            YamuxLog.SessionFailed(_logger, ex);
            lock (_stateLock)
            {
                _closeError ??= ex;
            }
        }
        finally
        {
            Teardown();
        }
    }

    /// <summary>Starts closing: queues the go-away (if any), lets the write loop drain what is queued, stops the read
    /// loop. Idempotent; the first reason wins.</summary>
    private void Shutdown(Exception? error, YamuxGoAwayCode? goAway)
    {
        lock (_stateLock)
        {
            if (_shutdownStarted)
            {
                return;
            }

            _shutdownStarted = true;
            _closeError = error;
        }

        if (goAway is { } code)
        {
            _controlFrames.Enqueue(YamuxFrameHeader.GoAway(code));
        }

        _writeQueue.Writer.TryComplete();
        _acceptQueue.Writer.TryComplete();
        try
        {
            _writeAbort.CancelAfter(_options.CloseTimeout);
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Teardown already ran (only when driven without the loops, as the fuzz target does).
        }
    }

    private void AbortWrites()
    {
        try
        {
            _writeAbort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already torn down.
        }
    }

    /// <summary>Runs once both loops have ended: aborts what is still open, fails pending pings, completes
    /// <see cref="Completion"/>.</summary>
    internal void Teardown()
    {
        Exception? error;
        lock (_stateLock)
        {
            _shutdownStarted = true;
            error = _closeError;
        }

        var streamError = new StreamResetException(
            error is null ? "the yamux session closed" : $"the yamux session closed: {error.Message}");
        foreach (var stream in _streams.Values)
        {
            stream.AbortBySession(streamError);
        }

        foreach (var (opaque, answer) in _pendingPings)
        {
            if (_pendingPings.TryRemove(opaque, out _) && answer.TrySetException(new IOException("the yamux session closed")))
            {
                _ = answer.Task.Exception;
            }
        }

        _writeQueue.Writer.TryComplete();
        _acceptQueue.Writer.TryComplete();

        // Streams nobody will accept any more; AcceptYamuxStreamAsync drops those it still takes the same way.
        while (_acceptQueue.Reader.TryRead(out var unaccepted))
        {
            unaccepted.DiscardUnaccepted();
        }

        _writeAbort.Dispose();
        if (error is null)
        {
            _completion.TrySetResult();
        }
        else if (_completion.TrySetException(error))
        {
            // Observed here so that a caller that never looks at Completion leaves no unobserved exception behind.
            _ = _completion.Task.Exception;
        }
    }

    private void ThrowIfCannotOpen()
    {
        if (IsShutdownStarted)
        {
            throw new IOException("the yamux session closed");
        }

        if (RemoteGoAwayCode is not null)
        {
            throw new IOException("the remote sent go-away; no new streams");
        }
    }

    /// <summary>A ping waiting for its answer.</summary>
    private sealed class PendingPing(long startTimestamp) : TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long StartTimestamp { get; } = startTimestamp;
    }

}
