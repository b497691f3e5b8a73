using System.Buffers;
using System.IO.Pipelines;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// A transport connection as a pair of pipes, Kestrel style: a receive loop moves bytes from the transport into
/// <see cref="Input"/>, a send loop moves what the application flushes to <see cref="Output"/> out to the transport.
/// Subclasses supply the transport operations (a socket, a WebSocket).
/// </summary>
/// <remarks>
/// <para>Lifetime. The application completing <see cref="Output"/> sends what is buffered and then half-closes
/// (<see cref="ShutdownSendAsync"/>); the remote's half-close completes <see cref="Input"/> without error. When both
/// directions are done (the remote half-closed or the application completed Input, and Output was sent and
/// half-closed) the transport is closed and released.</para>
/// <para>Failures. A transport error (a reset, a protocol violation) or <see cref="Abort"/> ends both directions at
/// once: Input completes with an <see cref="IOException"/> saying why, and so does the next flush of Output.
/// Completing Output with an exception aborts the connection.</para>
/// <para><see cref="DisposeAsync"/>: when the application has completed Output, waits until it is sent and
/// half-closed (which waits for the remote to take it in, as a TCP close would); otherwise aborts. Then closes the
/// transport whether or not the remote has half-closed, and waits for both loops to end.</para>
/// </remarks>
internal abstract class PipeConnection : ITransportConnection
{
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly int _minimumReceiveSize;
    private readonly int _maximumReceiveSize;
    private readonly bool _waitForData;
    private readonly Action<PipeConnection>? _onClosed;
    private Task _sending = Task.CompletedTask;
    private Task _processing = Task.CompletedTask;
    private Exception? _failure;
    private int _disposed;
    private volatile bool _closingLocally;

    /// <param name="pool">Where the pipes take their buffers from.</param>
    /// <param name="onClosed">Called once, after the transport is closed and both loops have ended.</param>
    protected PipeConnection(
        Multiaddr localAddress,
        Multiaddr remoteAddress,
        Direction direction,
        TcpTransportOptions options,
        MemoryPool<byte> pool,
        Action<PipeConnection>? onClosed)
    {
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        Direction = direction;
        _onClosed = onClosed;
        _minimumReceiveSize = options.MinimumReceiveSize;
        _maximumReceiveSize = Math.Max(options.MinimumReceiveSize, options.MaximumReceiveSize);
        _waitForData = options.WaitForDataBeforeAllocatingBuffer;

        // The application's reads and the resumption of paused writers run on the thread pool. The send loop runs
        // inline when the application flushes: it only starts a send, which does not block, and spares a thread hop
        // per flush.
        _input = CreatePipe(pool, PipeScheduler.ThreadPool, options.MaxReceiveBufferSize, options.MinimumReceiveSize);
        _output = CreatePipe(pool, PipeScheduler.Inline, options.MaxSendBufferSize, options.MinimumReceiveSize);
    }

    public PipeReader Input => _input.Reader;

    public PipeWriter Output => _output.Writer;

    public Multiaddr LocalAddress { get; }

    public Multiaddr RemoteAddress { get; }

    public Direction Direction { get; }

    /// <summary>Completes when the transport is closed and both loops have ended; never faults.</summary>
    internal Task Completion => _processing;

    /// <summary>Starts the receive and send loops; called once by the subclass when it is ready.</summary>
    protected void Start()
    {
        var receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
        _processing = RunAsync(receiving, _sending);
    }

    public void Abort(Exception? reason = null) =>
        Fail(new IOException($"the connection to {RemoteAddress} was aborted locally", reason));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // A send loop still waiting for output the application did not complete stops (and aborts); one with
            // completed output finishes sending it.
            _output.Reader.CancelPendingRead();
            await _sending.ConfigureAwait(false);
            _closingLocally = true;
            _input.Writer.CancelPendingFlush();
            CloseTransport();
        }

        await _processing.ConfigureAwait(false);
    }

    /// <summary>Waits until data (or the end of input) is available without holding a buffer; false when the input
    /// has ended.</summary>
    protected abstract ValueTask<bool> WaitForDataAsync();

    /// <summary>Receives into <paramref name="buffer"/>; 0 means the remote half-closed.</summary>
    protected abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer);

    /// <summary>Sends all of <paramref name="buffer"/>.</summary>
    protected abstract ValueTask SendAsync(ReadOnlySequence<byte> buffer);

    /// <summary>Half-closes: no more data will be sent (TCP FIN, a WebSocket close frame).</summary>
    protected abstract ValueTask ShutdownSendAsync();

    /// <summary>Closes the transport at once, resetting it; must be idempotent and thread-safe.</summary>
    protected abstract void AbortTransport();

    /// <summary>Closes the transport and releases it; must be idempotent and thread-safe.</summary>
    protected abstract void CloseTransport();

    /// <summary>Says what a transport exception means, as an <see cref="IOException"/>.</summary>
    protected virtual IOException DescribeFailure(Exception error, string operation) =>
        error as IOException ?? new IOException($"{operation} on the connection with {RemoteAddress} failed: {error.Message}", error);

    /// <summary>A pipe whose writer pauses at <paramref name="limit"/> unread bytes and resumes (on the thread pool)
    /// below half of it.</summary>
    private static Pipe CreatePipe(MemoryPool<byte> pool, PipeScheduler readerScheduler, long limit, int minimumSegmentSize) =>
        new(new PipeOptions(
            pool,
            readerScheduler: readerScheduler,
            writerScheduler: PipeScheduler.ThreadPool,
            pauseWriterThreshold: limit,
            resumeWriterThreshold: limit / 2,
            minimumSegmentSize: minimumSegmentSize,
            useSynchronizationContext: false));

    private async Task RunAsync(Task receiving, Task sending)
    {
        // Neither loop throws: each completes its pipe end with the reason it stopped.
        await Task.WhenAll(receiving, sending).ConfigureAwait(false);
        CloseTransport();
        _onClosed?.Invoke(this);
    }

    private void Fail(Exception error)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is not null)
        {
            return;
        }

        AbortTransport();
        _input.Writer.CancelPendingFlush();
        _output.Reader.CancelPendingRead();
    }

    private async Task ReceiveLoopAsync()
    {
        // Off the constructor's thread: data already waiting would otherwise be received inside the constructor.
        await Task.Yield();
        var writer = _input.Writer;
        var ended = false;
        var receiveSize = _minimumReceiveSize;
        var waitForData = _waitForData;
        try
        {
            while (true)
            {
                if (waitForData && !await WaitForDataAsync().ConfigureAwait(false))
                {
                    ended = true;
                    break;
                }

                var buffer = writer.GetMemory(receiveSize);
                var received = await ReceiveAsync(buffer).ConfigureAwait(false);
                if (received == 0)
                {
                    ended = true;
                    break;
                }

                writer.Advance(received);

                // A receive that filled its buffer most likely left more waiting: the next one goes straight to the
                // socket (no zero-byte wait) with a larger buffer, so a bulk transfer takes few large receives. A
                // receive that drained the socket goes back to waiting without a buffer and, when it was small, to
                // smaller buffers: an idle connection holds none.
                if (received == buffer.Length)
                {
                    waitForData = false;
                    receiveSize = Math.Min(receiveSize * 2, _maximumReceiveSize);
                }
                else
                {
                    waitForData = _waitForData;
                    if (received < receiveSize / 4)
                    {
                        receiveSize = Math.Max(receiveSize / 2, _minimumReceiveSize);
                    }
                }
                var flush = await writer.FlushAsync().ConfigureAwait(false);

                // Completed: the application completed Input and wants no more. Cancelled: by Fail or DisposeAsync.
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    ended = flush.IsCompleted;
                    break;
                }
            }
        }
        catch (Exception e) when (_failure is null && !_closingLocally)
        {
            Fail(DescribeFailure(e, "receiving"));
        }
        catch (Exception)
        {
            // The transport was closed under the receive by Abort, a failure or DisposeAsync.
        }

        var error = _failure;
        if (error is null && !ended)
        {
            error = new IOException($"the connection to {RemoteAddress} was closed locally before the remote finished sending");
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        var reader = _output.Reader;
        var completedByApplication = false;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (_failure is null)
                {
                    // The application completed Output with this exception: it wants the connection aborted.
                    Abort(e);
                    break;
                }

                if (_failure is not null || (result.IsCanceled && !result.IsCompleted))
                {
                    break;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await SendAsync(buffer).ConfigureAwait(false);
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    completedByApplication = true;
                    break;
                }
            }

            if (completedByApplication && _failure is null)
            {
                await ShutdownSendAsync().ConfigureAwait(false);
            }
            else if (_failure is null)
            {
                Fail(new IOException($"the connection to {RemoteAddress} was disposed before its output was completed"));
            }
        }
        catch (Exception e) when (_failure is null)
        {
            Fail(DescribeFailure(e, "sending"));
        }
        catch (Exception)
        {
            // The transport was aborted under the send.
        }

        await reader.CompleteAsync(_failure).ConfigureAwait(false);
    }
}
