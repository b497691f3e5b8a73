using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;

namespace ToolNet.Protocol.Echo;

/// <summary>
/// One <c>/echo/1.0.0</c> stream: the server sends back every byte it reads until the client half-closes. The methods
/// never reset the stream; the client helper half-closes its own side, which is part of the protocol.
/// </summary>
public static class EchoSession
{
    /// <summary>How much either side copies per flush: the server's own buffering, beyond what the pipes hold.</summary>
    public const int ChunkLength = 64 * 1024;

    /// <summary>
    /// Server: echoes everything until end-of-stream. At most <see cref="ChunkLength"/> bytes are copied to the output
    /// and flushed before more is read, so a client that stops reading stops the server reading too, and the rest waits
    /// in the transport's (window-bounded) buffers.
    /// </summary>
    /// <returns>How many bytes were echoed.</returns>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<long> ServeAsync(IDuplexPipe stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long echoed = 0;
        while (true)
        {
            var read = await stream.Input.ReadAsync(cancellationToken);
            var chunk = read.Buffer.Length > ChunkLength ? read.Buffer.Slice(0, ChunkLength) : read.Buffer;
            foreach (var segment in chunk)
            {
                stream.Output.Write(segment.Span);
            }

            echoed += chunk.Length;
            stream.Input.AdvanceTo(chunk.End);
            if (!chunk.IsEmpty && (await stream.Output.FlushAsync(cancellationToken)).IsCompleted)
            {
                throw new IOException($"the client stopped reading after {echoed} bytes");
            }

            if (read.IsCompleted && chunk.Length == read.Buffer.Length)
            {
                return echoed;
            }
        }
    }

    /// <summary>
    /// Client: sends <paramref name="data"/> while reading the echo, then half-closes and reads to end-of-stream.
    /// </summary>
    /// <remarks>
    /// The half-close follows the last data flush as a separate step, never in the same flush: js-libp2p (3.3.11)
    /// never reports end-of-stream on a stream whose protocol proposal, data and FIN arrive together.
    /// </remarks>
    /// <returns>The echoed bytes.</returns>
    /// <exception cref="IOException">The echo was shorter or longer than <paramref name="data"/>, or the stream failed.</exception>
    public static async ValueTask<byte[]> EchoAsync(IDuplexPipe stream, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var echo = new byte[data.Length];
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Writing and reading run together (a large payload would otherwise deadlock on backpressure); whichever
        // fails first cancels the other.
        async Task AbortOnFailure(Task work)
        {
            try
            {
                await work;
            }
            catch
            {
                await abort.CancelAsync();
                throw;
            }
        }

        var writing = AbortOnFailure(WriteThenCloseAsync(stream.Output, data, abort.Token));
        var reading = AbortOnFailure(ReadEchoAsync(stream.Input, echo, abort.Token));
        var both = Task.WhenAll(writing, reading);
        try
        {
            await both;
        }
        catch when (both.Exception is { } failures)
        {
            ExceptionDispatchInfo.Throw(failures.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? failures.InnerExceptions[0]);
        }

        return echo;
    }

    private static async Task WriteThenCloseAsync(PipeWriter output, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < data.Length; offset += ChunkLength)
        {
            var chunk = data.Slice(offset, Math.Min(ChunkLength, data.Length - offset));
            if ((await output.WriteAsync(chunk, cancellationToken)).IsCompleted)
            {
                throw new IOException($"the server stopped reading after {offset} of {data.Length} bytes");
            }
        }

        await output.CompleteAsync();
    }

    private static async Task ReadEchoAsync(PipeReader input, byte[] echo, CancellationToken cancellationToken)
    {
        var received = 0L;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (received + buffer.Length > echo.Length)
            {
                throw new IOException($"the server echoed more than the {echo.Length} bytes sent");
            }

            buffer.CopyTo(echo.AsSpan((int)received));
            received += buffer.Length;
            input.AdvanceTo(buffer.End);
            if (read.IsCompleted)
            {
                if (received != echo.Length)
                {
                    throw new IOException($"the server echoed {received} of {echo.Length} bytes, then closed");
                }

                return;
            }
        }
    }
}
