using System.IO.Pipelines;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// Reads and writes hop and stop messages on a stream. A read consumes exactly one message and nothing past it: once
/// a circuit is accepted, the bytes behind the status message already belong to the relayed connection.
/// </summary>
public static class CircuitRelaySession
{
    /// <summary>Writes one hop message, length-prefixed, and flushes.</summary>
    /// <exception cref="IOException">The stream failed or the remote stopped reading.</exception>
    public static ValueTask WriteAsync(PipeWriter output, HopMessage message, CancellationToken cancellationToken = default) =>
        WriteBodyAsync(output, CircuitRelayCodec.Encode(message), cancellationToken);

    /// <summary>Writes one stop message, length-prefixed, and flushes.</summary>
    /// <exception cref="IOException">The stream failed or the remote stopped reading.</exception>
    public static ValueTask WriteAsync(PipeWriter output, StopMessage message, CancellationToken cancellationToken = default) =>
        WriteBodyAsync(output, CircuitRelayCodec.Encode(message), cancellationToken);

    /// <summary>Reads one hop message.</summary>
    /// <exception cref="WireFormatException">A malformed or oversized message.</exception>
    /// <exception cref="IOException">The stream ended before a whole message, failed or was reset.</exception>
    public static async ValueTask<HopMessage> ReadHopAsync(PipeReader input, CancellationToken cancellationToken = default) =>
        CircuitRelayCodec.DecodeHop(await ReadBodyAsync(input, cancellationToken));

    /// <summary>Reads one stop message.</summary>
    /// <exception cref="WireFormatException">A malformed or oversized message.</exception>
    /// <exception cref="IOException">The stream ended before a whole message, failed or was reset.</exception>
    public static async ValueTask<StopMessage> ReadStopAsync(PipeReader input, CancellationToken cancellationToken = default) =>
        CircuitRelayCodec.DecodeStop(await ReadBodyAsync(input, cancellationToken));

    private static async ValueTask WriteBodyAsync(PipeWriter output, byte[] body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        CircuitRelayCodec.WriteDelimited(body, output);
        var flush = await output.FlushAsync(cancellationToken);
        if (flush.IsCompleted)
        {
            throw new IOException("the remote stopped reading before the relay message was sent");
        }
    }

    private static async ValueTask<byte[]> ReadBodyAsync(PipeReader input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (CircuitRelayCodec.TryReadDelimited(ref buffer, out var body))
            {
                // Consumed up to the message's end; whatever follows stays unread for the relayed connection.
                input.AdvanceTo(buffer.Start);
                return body;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new IOException(buffer.IsEmpty ? "the stream ended before a relay message" : "the stream ended inside a relay message");
            }
        }
    }
}
