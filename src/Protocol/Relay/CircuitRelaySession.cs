using System.IO.Pipelines;
using ToolNet.Protocol.Core;

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
        LengthPrefixedMessages.WriteAsync(output, message, CircuitRelayCodec.Hop, cancellationToken);

    /// <summary>Writes one stop message, length-prefixed, and flushes.</summary>
    /// <exception cref="IOException">The stream failed or the remote stopped reading.</exception>
    public static ValueTask WriteAsync(PipeWriter output, StopMessage message, CancellationToken cancellationToken = default) =>
        LengthPrefixedMessages.WriteAsync(output, message, CircuitRelayCodec.Stop, cancellationToken);

    /// <summary>Reads one hop message.</summary>
    /// <exception cref="WireFormatException">No message before end-of-stream, or a malformed, oversized or truncated one.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static ValueTask<HopMessage> ReadHopAsync(PipeReader input, CancellationToken cancellationToken = default) =>
        LengthPrefixedMessages.ReadRequiredAsync(input, CircuitRelayCodec.Hop, cancellationToken);

    /// <summary>Reads one stop message.</summary>
    /// <exception cref="WireFormatException">No message before end-of-stream, or a malformed, oversized or truncated one.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static ValueTask<StopMessage> ReadStopAsync(PipeReader input, CancellationToken cancellationToken = default) =>
        LengthPrefixedMessages.ReadRequiredAsync(input, CircuitRelayCodec.Stop, cancellationToken);
}
