using System.Buffers;
using System.IO.Pipelines;

namespace ToolNet.Protocol.Multistream;

/// <summary>
/// An optimistic ("lazy") multistream-select initiator for one protocol, returned by
/// <see cref="MultistreamSelect.SelectLazily"/>. The header and proposal were written into the transport when it
/// was created; they leave with the caller's first flush (or alone, when the caller reads first). The remote's
/// header and echo are consumed transparently before the first byte reaches <see cref="Input"/>; an <c>na</c> makes
/// the next read and the next flush throw <see cref="ProtocolNegotiationException"/>. The caller then resets the
/// stream. <see cref="Input"/> and <see cref="Output"/> may be used from different threads, like any pipe pair.
/// </summary>
/// <remarks>
/// Completing <see cref="Output"/> before the confirmation has arrived flushes what was written, waits for the
/// confirmation and only then completes (half-closes) the transport. js-libp2p 3.3.11 never reports end-of-stream
/// on a stream whose proposal, data and FIN arrive together, so the FIN must not ride along with the proposal.
/// Completing <see cref="Input"/> early is deferred the same way, because the confirmation is read from it.
/// </remarks>
public sealed class LazyNegotiatedPipe : IDuplexPipe
{
    private readonly IDuplexPipe transport;
    private readonly ConfirmationReader input;
    private readonly PendingWriter output;
    private readonly Lazy<Task> confirmation;

    // The first flush of the transport's output, which carries header and proposal. Whoever installs it (the
    // writer's first flush, or the confirmation when reading comes first) is the only one to touch the transport's
    // output until it completes: the writer buffers privately until then.
    private Task? firstFlush;

    internal LazyNegotiatedPipe(IDuplexPipe transport, string protocol)
    {
        this.transport = transport;
        Protocol = protocol;
        MultistreamMessage.Write(transport.Output, MultistreamMessage.ProtocolId);
        MultistreamMessage.Write(transport.Output, protocol);
        confirmation = new Lazy<Task>(ConfirmCoreAsync);
        input = new ConfirmationReader(this);
        output = new PendingWriter(this);
    }

    /// <summary>The proposed protocol id.</summary>
    public string Protocol { get; }

    /// <summary>Reads the protocol's data; the first read waits for, and checks, the remote's confirmation.</summary>
    public PipeReader Input => input;

    /// <summary>Writes the protocol's data; nothing has to wait for the confirmation.</summary>
    public PipeWriter Output => output;

    /// <summary>Whether the remote has echoed the proposal.</summary>
    public bool IsConfirmed => confirmation.IsValueCreated && confirmation.Value.IsCompletedSuccessfully;

    /// <summary>Sends the proposal if nothing has sent it yet and waits for the remote's answer, to learn the
    /// outcome without reading. Safe alongside reads of <see cref="Input"/>: both wait for the same confirmation.</summary>
    /// <exception cref="ProtocolNegotiationException">The remote answered <c>na</c>, misbehaved, or closed.</exception>
    public Task ConfirmAsync(CancellationToken cancellationToken = default) => Confirmation.WaitAsync(cancellationToken);

    private Task Confirmation => confirmation.Value;

    private Exception? ConfirmationFailure =>
        confirmation.IsValueCreated && confirmation.Value.IsFaulted ? confirmation.Value.Exception.InnerException : null;

    private async Task ConfirmCoreAsync()
    {
        var claim = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var earlier = Interlocked.CompareExchange(ref firstFlush, claim.Task, null);
        if (earlier is null)
        {
            // Reading came before any flush: the proposal goes out on its own.
            await FlushFirstAsync(claim, CancellationToken.None);
        }
        else
        {
            await earlier;
        }

        var channel = new NegotiationChannel(transport.Input, output: null);
        await MultistreamSelect.ReadHeaderAsync(channel, CancellationToken.None);
        if (!await MultistreamSelect.ReadAnswerAsync(channel, Protocol, CancellationToken.None))
        {
            throw new ProtocolNegotiationException(
                NegotiationFailure.NotSupported, $"the remote does not support {NegotiationChannel.Describe(Protocol)} (it answered 'na')");
        }
    }

    /// <summary>Flushes the transport as the first flush and settles <paramref name="claim"/> once the bytes are handed over.</summary>
    private async ValueTask<FlushResult> FlushFirstAsync(TaskCompletionSource claim, CancellationToken cancellationToken)
    {
        try
        {
            var result = await transport.Output.FlushAsync(cancellationToken);
            claim.TrySetResult();
            return result;
        }
        catch (OperationCanceledException)
        {
            // Cancelling a flush gives up waiting for the reader; the bytes stay committed.
            claim.TrySetResult();
            throw;
        }
        catch (Exception e)
        {
            claim.TrySetException(e);
            throw;
        }
    }

    /// <summary>Makes sure no one will start the first flush any more, and waits for one that is under way.</summary>
    private async Task AbandonFirstFlushAsync()
    {
        var earlier = Interlocked.CompareExchange(ref firstFlush, Task.CompletedTask, null);
        if (earlier is not null)
        {
            await earlier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Marks one half completed, once. True when its transport half may be completed at once; otherwise
    /// <paramref name="deferred"/> is the completion that waits for the confirmation first.</summary>
    private static bool StartCompleting(ref bool completed, bool completeNow, Func<Task> completeLater, out Task deferred)
    {
        deferred = Task.CompletedTask;
        if (completed)
        {
            return false;
        }

        completed = true;
        if (completeNow)
        {
            return true;
        }

        deferred = completeLater();
        return false;
    }

    /// <summary>Buffers writes privately until the first flush, then passes everything straight to the transport.</summary>
    private sealed class PendingWriter(LazyNegotiatedPipe owner) : PipeWriter
    {
        // Non-null until the first flush has moved its bytes behind the proposal in the transport. Only the
        // writing thread touches it (and, after Complete, the completion it started).
        private PooledBufferWriter? pending = new();
        private bool completed;

        private PipeWriter Transport => owner.transport.Output;

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            ObjectDisposedException.ThrowIf(completed, this);
            return pending is null ? Transport.GetMemory(sizeHint) : pending.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            ObjectDisposedException.ThrowIf(completed, this);
            return pending is null ? Transport.GetSpan(sizeHint) : pending.GetSpan(sizeHint);
        }

        public override void Advance(int bytes)
        {
            if (pending is null)
            {
                Transport.Advance(bytes);
            }
            else
            {
                pending.Advance(bytes);
            }
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (owner.ConfirmationFailure is { } failure)
            {
                return ValueTask.FromException<FlushResult>(failure);
            }

            return pending is null ? Transport.FlushAsync(cancellationToken) : FirstFlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => Transport.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            if (StartCompleting(exception, out _))
            {
                Transport.Complete(exception);
            }
        }

        public override ValueTask CompleteAsync(Exception? exception = null) =>
            StartCompleting(exception, out var deferred) ? Transport.CompleteAsync(exception) : new ValueTask(deferred);

        private bool StartCompleting(Exception? exception, out Task deferred) => LazyNegotiatedPipe.StartCompleting(
            ref completed, pending is null && (exception is not null || owner.IsConfirmed), () => CompleteAfterConfirmationAsync(exception), out deferred);

        private async ValueTask<FlushResult> FirstFlushAsync(CancellationToken cancellationToken)
        {
            var claim = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var earlier = Interlocked.CompareExchange(ref owner.firstFlush, claim.Task, null);
            if (earlier is not null)
            {
                // The confirmation flushed the proposal alone; wait until the transport's output is ours again.
                await earlier.WaitAsync(cancellationToken);
            }

            Transport.Write(pending!.WrittenSpan);
            pending.Release();
            pending = null;
            return earlier is null
                ? await owner.FlushFirstAsync(claim, cancellationToken)
                : await Transport.FlushAsync(cancellationToken);
        }

        /// <summary>Sends what was written, waits for the remote's answer, then completes the transport:
        /// with the negotiation failure if there was one, normally otherwise (see the type's remarks).</summary>
        private async Task CompleteAfterConfirmationAsync(Exception? exception)
        {
            try
            {
                if (exception is null && owner.ConfirmationFailure is null)
                {
                    // Interop: js-libp2p 3.3.11 never sees end-of-stream when proposal, data and FIN arrive
                    // together. So the data goes now, the FIN only once the remote has confirmed the protocol.
                    await (pending is null ? Transport.FlushAsync() : FirstFlushAsync(CancellationToken.None));
                    await owner.Confirmation.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    exception = owner.ConfirmationFailure;
                }
                else
                {
                    exception ??= owner.ConfirmationFailure;
                    await owner.AbandonFirstFlushAsync();
                }
            }
            catch (Exception e)
            {
                // Nobody awaits a plain Complete: the transport carries the failure instead.
                exception = e;
            }

            pending?.Release();
            pending = null;
            await Transport.CompleteAsync(exception);
        }
    }

    /// <summary>Holds reads back until the confirmation has been read from the transport, then passes through.</summary>
    private sealed class ConfirmationReader(LazyNegotiatedPipe owner) : PipeReader
    {
        private readonly Lock sync = new();
        private volatile bool confirmed;
        private bool cancelRequested;
        private TaskCompletionSource? cancelSignal;
        private bool completed;

        private PipeReader Transport => owner.transport.Input;

        private static ReadResult CanceledResult => new(default, isCanceled: true, isCompleted: false);

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            confirmed ? Transport.ReadAsync(cancellationToken) : ReadUnconfirmedAsync(cancellationToken);

        public override bool TryRead(out ReadResult result)
        {
            if (!confirmed)
            {
                var confirmation = owner.Confirmation;
                if (confirmation.IsFaulted)
                {
                    confirmation.GetAwaiter().GetResult();
                }

                if (!confirmation.IsCompletedSuccessfully)
                {
                    lock (sync)
                    {
                        result = cancelRequested ? CanceledResult : default;
                        var canceled = cancelRequested;
                        cancelRequested = false;
                        return canceled;
                    }
                }

                MarkConfirmed();
            }

            return Transport.TryRead(out result);
        }

        public override void AdvanceTo(SequencePosition consumed) => Transport.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => Transport.AdvanceTo(consumed, examined);

        public override void CancelPendingRead()
        {
            lock (sync)
            {
                if (!confirmed)
                {
                    cancelRequested = true;
                    cancelSignal?.TrySetResult();
                    return;
                }
            }

            Transport.CancelPendingRead();
        }

        public override void Complete(Exception? exception = null)
        {
            if (StartCompleting(exception, out _))
            {
                Transport.Complete(exception);
            }
        }

        public override ValueTask CompleteAsync(Exception? exception = null) =>
            StartCompleting(exception, out var deferred) ? Transport.CompleteAsync(exception) : new ValueTask(deferred);

        // The transport may be completed at once when nothing reads the confirmation from it any more.
        private bool StartCompleting(Exception? exception, out Task deferred) => LazyNegotiatedPipe.StartCompleting(
            ref completed, confirmed || owner.Confirmation.IsCompleted, () => CompleteAfterConfirmationAsync(exception), out deferred);

        private async ValueTask<ReadResult> ReadUnconfirmedAsync(CancellationToken cancellationToken)
        {
            var confirmation = owner.Confirmation;
            if (!confirmation.IsCompleted)
            {
                TaskCompletionSource signal;
                lock (sync)
                {
                    if (cancelRequested)
                    {
                        cancelRequested = false;
                        return CanceledResult;
                    }

                    signal = cancelSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                try
                {
                    await Task.WhenAny(confirmation, signal.Task).WaitAsync(cancellationToken);
                }
                finally
                {
                    lock (sync)
                    {
                        cancelSignal = null;
                    }
                }

                if (!confirmation.IsCompleted)
                {
                    lock (sync)
                    {
                        cancelRequested = false;
                    }

                    return CanceledResult;
                }
            }

            await confirmation;
            MarkConfirmed();
            return await Transport.ReadAsync(cancellationToken);
        }

        private void MarkConfirmed()
        {
            bool forwardCancel;
            lock (sync)
            {
                if (confirmed)
                {
                    return;
                }

                confirmed = true;
                forwardCancel = cancelRequested;
                cancelRequested = false;
            }

            // A CancelPendingRead that arrived before the confirmation cancels the first transport read instead.
            if (forwardCancel)
            {
                Transport.CancelPendingRead();
            }
        }

        private async Task CompleteAfterConfirmationAsync(Exception? exception)
        {
            await owner.Confirmation.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Transport.CompleteAsync(exception);
        }
    }
}
