using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Memory;

/// <summary>One end of an in-memory connection. Completing <see cref="Output"/> is a half-close (the remote reads
/// end-of-stream); <see cref="Abort"/> is a reset (the remote's reads throw).</summary>
internal sealed class MemoryConnection : ITransportConnection
{
    private readonly MemoryNetwork _network;
    private int _closed;

    private MemoryConnection(MemoryNetwork network, PipeReader input, PipeWriter output, Multiaddr local, Multiaddr remote, Direction direction)
    {
        _network = network;
        Input = input;
        Output = output;
        LocalAddress = local;
        RemoteAddress = remote;
        Direction = direction;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public Multiaddr LocalAddress { get; }

    public Multiaddr RemoteAddress { get; }

    public Direction Direction { get; }

    /// <summary>Both ends of a connection from <paramref name="dialer"/> to <paramref name="listener"/>'s
    /// <paramref name="listenAddress"/>.</summary>
    public static (MemoryConnection Dialer, MemoryConnection Accepter) CreatePair(MemoryTransport dialer, MemoryTransport listener, Multiaddr listenAddress)
    {
        var network = dialer.Network;
        var (toListenerWriter, toListenerReader) = Direct(network, dialer, listener);
        var (toDialerWriter, toDialerReader) = Direct(network, listener, dialer);
        network.ConnectionOpened();
        return (
            new MemoryConnection(network, toDialerReader, toListenerWriter, dialer.Address, listenAddress, Direction.Outbound),
            new MemoryConnection(network, toListenerReader, toDialerWriter, listenAddress, dialer.Address, Direction.Inbound));
    }

    public void Abort(Exception? reason = null)
    {
        Output.Complete(new IOException("connection reset by peer", reason));
        Input.Complete();
        Closed();
    }

    public ValueTask DisposeAsync()
    {
        Output.Complete();
        Input.Complete();
        Closed();
        return ValueTask.CompletedTask;
    }

    /// <summary>One direction, from <paramref name="sender"/> to <paramref name="receiver"/>: a pipe, behind a delay
    /// line when the link has latency, read through the link's fault state.</summary>
    private static (PipeWriter Writer, PipeReader Reader) Direct(MemoryNetwork network, MemoryTransport sender, MemoryTransport receiver)
    {
        var options = network.Options;
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: options.BufferedBytesPerDirection,
            resumeWriterThreshold: options.BufferedBytesPerDirection / 2,
            useSynchronizationContext: false);
        var exit = new Pipe(pipeOptions);
        var reader = new MemoryLinkReader(exit.Reader, network, receiver, sender);
        var latency = network.LatencyBetween(sender.Number, receiver.Number);
        if (latency <= TimeSpan.Zero)
        {
            return (exit.Writer, reader);
        }

        var entry = new Pipe(pipeOptions);
        DelayLine.Start(entry.Reader, exit.Writer, latency, options.TimeProvider);
        return (entry.Writer, reader);
    }

    private void Closed()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0 && Direction == Direction.Outbound)
        {
            _network.ConnectionClosed();
        }
    }
}

/// <summary>
/// The receiving side of one direction, as the network's faults allow: while the link is down (an end vanished, or
/// the pair is cut) nothing is delivered, not even end-of-stream, and the bytes wait in the pipe, filling it until the
/// sender blocks, as a TCP send buffer fills when the remote stops acknowledging.
/// </summary>
internal sealed class MemoryLinkReader(PipeReader inner, MemoryNetwork network, MemoryTransport self, MemoryTransport remote) : PipeReader
{
    private CancellationTokenSource? _pendingWait;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => ReadWhenUpAsync(cancellationToken);

    public override bool TryRead(out ReadResult result)
    {
        if (network.IsUp(self, remote))
        {
            return inner.TryRead(out result);
        }

        result = default;
        return false;
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead()
    {
        Volatile.Read(ref _pendingWait)?.Cancel();
        inner.CancelPendingRead();
    }

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    private async ValueTask<ReadResult> ReadWhenUpAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!network.IsUp(self, remote))
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Volatile.Write(ref _pendingWait, wait);
                try
                {
                    await network.WaitUntilUpAsync(self, remote, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return new ReadResult(ReadOnlySequence<byte>.Empty, isCanceled: true, isCompleted: false);
                }
                finally
                {
                    Volatile.Write(ref _pendingWait, null);
                }
            }

            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || network.IsUp(self, remote))
            {
                return result;
            }

            // The link went down while we waited: hold this data back (consume nothing) until it is up again.
            inner.AdvanceTo(result.Buffer.Start);
        }
    }
}

/// <summary>
/// Carries one direction of a link with a fixed one-way delay: bytes written at time t become readable at t + latency,
/// in order, end-of-stream and resets included. Two loops: one timestamps what the sender flushed, one delivers each
/// chunk when it is due. The bounded hand-off between them passes the receiver's backpressure back to the sender.
/// </summary>
internal static class DelayLine
{
    private const int ChunksInFlight = 64;

    public static void Start(PipeReader entry, PipeWriter exit, TimeSpan latency, TimeProvider time)
    {
        var inFlight = Channel.CreateBounded<(long Due, byte[] Bytes, int Length)>(
            new BoundedChannelOptions(ChunksInFlight) { SingleReader = true, SingleWriter = true });
        var receiverGone = new CancellationTokenSource();
        _ = Task.Run(() => CaptureAsync(entry, inFlight.Writer, latency, time, receiverGone.Token));
        _ = Task.Run(() => DeliverAsync(inFlight.Reader, exit, time, receiverGone));
    }

    private static async Task CaptureAsync(
        PipeReader entry, ChannelWriter<(long, byte[], int)> inFlight, TimeSpan latency, TimeProvider time, CancellationToken receiverGone)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await entry.ReadAsync(receiverGone).ConfigureAwait(false);
                var buffer = read.Buffer;
                if (!buffer.IsEmpty)
                {
                    var bytes = ArrayPool<byte>.Shared.Rent((int)buffer.Length);
                    buffer.CopyTo(bytes);
                    var due = time.GetTimestamp() + (long)(latency.TotalSeconds * time.TimestampFrequency);
                    await inFlight.WriteAsync((due, bytes, (int)buffer.Length), receiverGone).ConfigureAwait(false);
                }

                entry.AdvanceTo(buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (receiverGone.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        inFlight.TryComplete(failure);
        await entry.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task DeliverAsync(ChannelReader<(long Due, byte[] Bytes, int Length)> inFlight, PipeWriter exit, TimeProvider time, CancellationTokenSource receiverGone)
    {
        Exception? failure = null;
        try
        {
            await foreach (var (due, bytes, length) in inFlight.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    var wait = time.GetElapsedTime(time.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, time).ConfigureAwait(false);
                    }

                    var flush = await exit.WriteAsync(bytes.AsMemory(0, length)).ConfigureAwait(false);
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(bytes);
                }
            }
        }
        catch (Exception ex)
        {
            // The sender reset the connection (its failure arrives through the channel), or the receiver went away.
            failure = ex is ChannelClosedException { InnerException: { } inner } ? inner : ex;
        }

        await receiverGone.CancelAsync().ConfigureAwait(false);
        await exit.CompleteAsync(failure).ConfigureAwait(false);
        while (inFlight.TryRead(out var left))
        {
            ArrayPool<byte>.Shared.Return(left.Bytes);
        }

        receiverGone.Dispose();
    }
}
