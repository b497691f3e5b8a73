using System.Buffers;
using System.IO.Pipelines;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Relay;

/// <summary>How a bridged circuit ended.</summary>
public enum CircuitEnd
{
    /// <summary>Both sides half-closed: every byte was delivered.</summary>
    Completed,

    /// <summary>A direction reached the circuit's data cap (circuit-v2 spec, "Limit": bytes in each direction).</summary>
    DataLimit,

    /// <summary>The circuit outlived its duration limit.</summary>
    DurationLimit,

    /// <summary>A side reset or failed, or the relay is stopping.</summary>
    Failed,
}

/// <summary>
/// Splices the initiator's hop stream and the target's stop stream into one relayed connection: bytes flow both ways,
/// each direction awaiting the other side's flush (the muxer's window), so a slow reader slows its writer instead of
/// filling the relay's memory. A half-close is passed on; a reset, a limit or the end of the relay resets both.
/// </summary>
internal static class CircuitBridge
{
    public static async Task<CircuitEnd> RunAsync(
        IMuxedStream initiator,
        IMuxedStream target,
        RelayLimit limit,
        TimeProvider timeProvider,
        Action<long> relayed,
        CancellationToken cancellationToken)
    {
        using var lifetime = limit.DurationSpan is { } duration
            ? new CancellationTokenSource(duration, timeProvider)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token, cancellationToken);
        var cap = limit.DataCap ?? ulong.MaxValue;
        var forward = PumpAsync(initiator.Input, target, cap, relayed, linked.Token);
        var backward = PumpAsync(target.Input, initiator, cap, relayed, linked.Token);

        // The first direction to end badly ends the circuit; a clean half-close waits for the other direction.
        var first = await Task.WhenAny(forward, backward).ConfigureAwait(false);
        var end = await first.ConfigureAwait(false);
        if (end == CircuitEnd.Completed)
        {
            end = await (first == forward ? backward : forward).ConfigureAwait(false);
        }

        if (end != CircuitEnd.Completed)
        {
            initiator.Reset();
            target.Reset();
            await linked.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(forward, backward).ConfigureAwait(false);
            if (end == CircuitEnd.Failed && lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                end = CircuitEnd.DurationLimit;
            }
        }

        return end;
    }

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> until end-of-stream (passed on as
    /// a half-close), the cap, a failure or cancellation. Never throws.</summary>
    private static async Task<CircuitEnd> PumpAsync(PipeReader source, IMuxedStream destination, ulong cap, Action<long> relayed, CancellationToken cancellationToken)
    {
        ulong sent = 0;
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = read.Buffer;
                var allowed = cap - sent;
                var take = (ulong)buffer.Length <= allowed ? buffer : buffer.Slice(0, (long)allowed);
                foreach (var segment in take)
                {
                    destination.Output.Write(segment.Span);
                }

                sent += (ulong)take.Length;
                source.AdvanceTo(take.End);
                relayed(take.Length);
                var flush = await destination.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (take.Length < buffer.Length)
                {
                    return CircuitEnd.DataLimit;
                }

                if (flush.IsCompleted || flush.IsCanceled)
                {
                    return CircuitEnd.Failed;
                }

                if (read.IsCompleted)
                {
                    await destination.CloseWriteAsync(cancellationToken).ConfigureAwait(false);
                    return CircuitEnd.Completed;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            return CircuitEnd.Failed;
        }
    }
}
