using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;

namespace ToolNet.Protocol.Perf;

/// <summary>
/// One <c>/perf/1.0.0</c> stream (libp2p/specs <c>perf/perf.md</c>, "Protocol"): the client sends the number of bytes
/// it wants back as a big-endian u64, uploads, half-closes and reads the download to end-of-stream; the server reads
/// the number, drains the upload to end-of-stream, and only then sends the download.
/// </summary>
/// <remarks>
/// This is the throughput benchmark path, so neither side copies or allocates per chunk: the sender fills the pipe's
/// own memory in large chunks and the receiver counts and releases whole buffers. The content does not matter, but
/// the sender zeroes what it sends rather than advancing over pooled memory as it is: a pool block may still hold
/// another stream's plaintext, which must not leave the process. Zeroing runs at memory speed, far above the
/// transport's.
/// </remarks>
public static class PerfSession
{
    /// <summary>The most bytes written per chunk of pipe memory.</summary>
    public const int ChunkLength = 64 * 1024;

    /// <summary>The bytes written between flushes.</summary>
    public const int FlushLength = 256 * 1024;

    private const int RequestLength = sizeof(ulong);

    /// <summary>Client: requests <paramref name="download"/> bytes, uploads <paramref name="upload"/> bytes,
    /// half-closes, then reads the download to end-of-stream and times each phase.</summary>
    /// <exception cref="IOException">The server sent another number of bytes than requested, stopped reading, or the stream failed.</exception>
    public static async ValueTask<PerfResult> PerfAsync(IDuplexPipe stream, ulong upload, ulong download, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var started = Stopwatch.GetTimestamp();
        WriteRequest(stream.Output, download);
        await SendAsync(stream.Output, upload, cancellationToken);

        // A separate step from the last data flush: see EchoSession.EchoAsync on js-libp2p and a FIN sent with data.
        await stream.Output.CompleteAsync();
        var uploaded = Stopwatch.GetTimestamp();
        var received = await DrainAsync(stream.Input, cancellationToken);
        var finished = Stopwatch.GetTimestamp();
        if (received != download)
        {
            throw new IOException($"the perf server sent {received} bytes, {download} were requested");
        }

        var uploadTime = Stopwatch.GetElapsedTime(started, uploaded);
        var downloadTime = Stopwatch.GetElapsedTime(uploaded, finished);
        return new PerfResult(upload, received, uploadTime, downloadTime, uploadTime + downloadTime);
    }

    /// <summary>Server: reads the request, drains the upload to end-of-stream, then sends the requested bytes. The
    /// caller closes the stream afterwards.</summary>
    /// <returns>The upload size and the bytes sent.</returns>
    /// <exception cref="WireFormatException">The stream ended before the 8-byte request.</exception>
    /// <exception cref="IOException">The client stopped reading (for example a timed download of u64::MAX bytes
    /// ending) or the stream failed.</exception>
    public static async ValueTask<(ulong Uploaded, ulong Sent)> ServeAsync(IDuplexPipe stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var input = stream.Input;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length >= RequestLength)
            {
                var requested = ReadRequest(buffer);
                var uploaded = (ulong)(buffer.Length - RequestLength);
                input.AdvanceTo(buffer.End);
                if (!read.IsCompleted)
                {
                    uploaded += await DrainAsync(input, cancellationToken);
                }

                await SendAsync(stream.Output, requested, cancellationToken);
                return (uploaded, requested);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new WireFormatException($"the perf stream ended {buffer.Length} bytes into its {RequestLength}-byte request");
            }
        }
    }

    /// <summary>Writes <paramref name="count"/> zero bytes in <see cref="ChunkLength"/> pieces of pipe memory,
    /// flushing every <see cref="FlushLength"/> bytes and once at the end (so whatever was written before goes too).</summary>
    /// <exception cref="IOException">The reader completed before everything was sent.</exception>
    internal static async ValueTask SendAsync(PipeWriter output, ulong count, CancellationToken cancellationToken)
    {
        var remaining = count;
        do
        {
            var batch = Math.Min(remaining, FlushLength);
            FillZeros(output, (int)batch);
            remaining -= batch;
            var flush = await output.FlushAsync(cancellationToken);
            if (flush.IsCompleted && remaining > 0)
            {
                throw new IOException($"the remote stopped reading with {remaining} of {count} bytes unsent");
            }
        }
        while (remaining > 0);
    }

    /// <summary>Reads to end-of-stream, counting and releasing each buffer without copying it.</summary>
    internal static async ValueTask<ulong> DrainAsync(PipeReader input, CancellationToken cancellationToken)
    {
        ulong total = 0;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            total += (ulong)read.Buffer.Length;
            input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return total;
            }
        }
    }

    private static void FillZeros(PipeWriter output, int count)
    {
        while (count > 0)
        {
            var span = output.GetSpan(Math.Min(count, ChunkLength));
            var length = Math.Min(count, span.Length);
            span[..length].Clear();
            output.Advance(length);
            count -= length;
        }
    }

    private static void WriteRequest(PipeWriter output, ulong download)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(output.GetSpan(RequestLength), download);
        output.Advance(RequestLength);
    }

    private static ulong ReadRequest(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.TryReadBigEndian(out long requested);
        return unchecked((ulong)requested);
    }
}
