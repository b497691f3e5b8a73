using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Benchmarks;

/// <summary>The yamux frame path without sockets or crypto: one stream moves 64 MiB between two sessions joined by
/// in-memory pipes, in 256 KiB flushes as the perf protocol writes. Measures framing, window updates, the copies into
/// the stream pipes and the thread hops of the read and write loops.</summary>
[MemoryDiagnoser]
public class YamuxStreamBenchmarks
{
    private const int TransferLength = 64 * 1024 * 1024;
    private const int FlushLength = 256 * 1024;

    private YamuxSession _client = null!;
    private YamuxSession _server = null!;

    [GlobalSetup]
    public void Setup()
    {
        var toServer = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
        var toClient = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));
        var muxer = new YamuxMuxer();
        _client = muxer.Start(new DuplexPipe(toClient.Reader, toServer.Writer), Direction.Outbound, NullLogger.Instance);
        _server = muxer.Start(new DuplexPipe(toServer.Reader, toClient.Writer), Direction.Inbound, NullLogger.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.CloseAsync().AsTask().GetAwaiter().GetResult();
        _server.CloseAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Opens a stream, writes 64 MiB of zeros and closes; the other side drains to end-of-stream.</summary>
    [Benchmark]
    public async Task<long> Transfer64MiB()
    {
        var sending = SendAsync();
        var stream = await _server.AcceptYamuxStreamAsync() ?? throw new InvalidOperationException("the session closed");
        long received = 0;
        while (true)
        {
            var result = await stream.Input.ReadAsync();
            received += result.Buffer.Length;
            stream.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await stream.DisposeAsync();
        await sending;
        return received;
    }

    private async Task SendAsync()
    {
        var stream = await _client.OpenYamuxStreamAsync();
        for (var sent = 0; sent < TransferLength; sent += FlushLength)
        {
            var remaining = FlushLength;
            while (remaining > 0)
            {
                var span = stream.Output.GetSpan(Math.Min(remaining, 64 * 1024));
                var length = Math.Min(remaining, span.Length);
                span[..length].Clear();
                stream.Output.Advance(length);
                remaining -= length;
            }

            await stream.Output.FlushAsync();
        }

        await stream.Output.CompleteAsync();
        await stream.DisposeAsync();
    }
}

/// <summary>Encoding and decoding of the 12-byte yamux header, the per-frame codec cost.</summary>
public class YamuxFrameHeaderBenchmarks
{
    private readonly byte[] _buffer = new byte[YamuxFrameHeader.Size];

    [Benchmark]
    public uint WriteAndReadHeader()
    {
        YamuxFrameHeader.Data(7, YamuxFrameFlags.None, YamuxOptions.DefaultMaxDataFrameSize).Write(_buffer);
        YamuxFrameHeader.TryRead(new ReadOnlySequence<byte>(_buffer), out var header);
        return header.Length;
    }
}
