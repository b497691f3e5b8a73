using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace ToolNet.Protocol.Yamux;

/// <summary>A stream's <c>Input</c>: the receive pipe's reader, counting what the application consumes so the
/// stream can grant the window back, and throwing <see cref="Core.StreamResetException"/> once the stream is reset.</summary>
internal sealed class YamuxStreamInput(YamuxStream stream, PipeReader inner) : PipeReader
{
    private ReadOnlySequence<byte> _lastBuffer;
    private int _completed;

    public override bool TryRead(out ReadResult result)
    {
        stream.ThrowIfReadReset();
        if (!inner.TryRead(out result))
        {
            return false;
        }

        _lastBuffer = result.Buffer;
        return true;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        stream.ThrowIfReadReset();
        return ReadCoreAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> ReadCoreAsync(CancellationToken cancellationToken)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        stream.ThrowIfReadReset();
        _lastBuffer = result.Buffer;
        return result;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var consumedBytes = _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        _lastBuffer = default;
        inner.AdvanceTo(consumed, examined);
        if (consumedBytes > 0)
        {
            stream.OnConsumed(consumedBytes);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            stream.OnReaderCompleted();
            inner.Complete(exception);
        }
    }
}

/// <summary>A stream's <c>Output</c>: the send pipe's writer, waking the session's write loop on flush. Completing
/// it half-closes the stream (FIN); completing it with an exception resets the stream.</summary>
internal sealed class YamuxStreamOutput(YamuxStream stream, PipeWriter inner) : PipeWriter
{
    private int _completed;

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        stream.ThrowIfWriteReset();
        return inner.GetMemory(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        stream.ThrowIfWriteReset();
        return inner.GetSpan(sizeHint);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        stream.ThrowIfWriteReset();
        var flush = inner.FlushAsync(cancellationToken);
        stream.ScheduleSend();
        return AwaitFlushAsync(flush);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<FlushResult> AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        var result = await flush.ConfigureAwait(false);
        stream.ThrowIfWriteReset();
        return result;
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        if (exception is not null)
        {
            stream.ResetLocally($"the writer failed: {exception.Message}");
        }

        inner.Complete(exception);
        stream.ScheduleSend();
    }
}
