using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>An <see cref="IDuplexPipe"/> made of a reader and a writer.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}

/// <summary>Two connected transports, and whatever must be disposed with them.</summary>
internal sealed class TransportPair(IDuplexPipe client, IDuplexPipe server, params IDisposable[] resources) : IDisposable
{
    public IDuplexPipe Client { get; } = client;

    public IDuplexPipe Server { get; } = server;

    public void Dispose()
    {
        foreach (var resource in resources)
        {
            resource.Dispose();
        }
    }

    /// <summary>Two pipes back to back.</summary>
    public static TransportPair InMemory()
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        return new TransportPair(new DuplexPipe(toClient.Reader, toServer.Writer), new DuplexPipe(toServer.Reader, toClient.Writer));
    }

    /// <summary>A real TCP connection over 127.0.0.1, each end's NetworkStream wrapped as pipes.</summary>
    public static async Task<TransportPair> LoopbackTcpAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)listener.LocalEndpoint);
        var server = await accept;
        server.NoDelay = true;
        var clientStream = new NetworkStream(client, ownsSocket: true);
        var serverStream = new NetworkStream(server, ownsSocket: true);
        return new TransportPair(Wrap(clientStream), Wrap(serverStream), clientStream, serverStream);

        static DuplexPipe Wrap(NetworkStream stream) => new(
            PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)),
            PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));
    }

    /// <summary>Pipes back to back that deliver every byte <paramref name="oneWayLatency"/> after it was flushed,
    /// like a long link: the round trip becomes twice that, whatever the load.</summary>
    public static TransportPair WithLatency(TimeSpan oneWayLatency, CancellationToken cancellationToken)
    {
        var clientOut = new Pipe();
        var serverIn = new Pipe();
        var serverOut = new Pipe();
        var clientIn = new Pipe();
        _ = ForwardWithLatencyAsync(clientOut.Reader, serverIn.Writer, oneWayLatency, cancellationToken);
        _ = ForwardWithLatencyAsync(serverOut.Reader, clientIn.Writer, oneWayLatency, cancellationToken);
        return new TransportPair(new DuplexPipe(clientIn.Reader, clientOut.Writer), new DuplexPipe(serverIn.Reader, serverOut.Writer));
    }

    private static async Task ForwardWithLatencyAsync(PipeReader from, PipeWriter to, TimeSpan latency, CancellationToken cancellationToken)
    {
        var inFlight = Channel.CreateUnbounded<(long DueTimestamp, byte[] Bytes)>();
        var deliver = DeliverAsync();
        try
        {
            while (true)
            {
                var result = await from.ReadAsync(cancellationToken);
                if (!result.Buffer.IsEmpty)
                {
                    var due = TimeProvider.System.GetTimestamp() + (long)(latency.TotalSeconds * TimeProvider.System.TimestampFrequency);
                    inFlight.Writer.TryWrite((due, result.Buffer.ToArray()));
                }

                from.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        inFlight.Writer.TryComplete();
        await from.CompleteAsync();
        await deliver;

        async Task DeliverAsync()
        {
            try
            {
                await foreach (var (dueTimestamp, bytes) in inFlight.Reader.ReadAllAsync(cancellationToken))
                {
                    var wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), dueTimestamp);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, cancellationToken);
                    }

                    await to.WriteAsync(bytes, cancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (InvalidOperationException)
            {
                // The reading side completed.
            }

            await to.CompleteAsync();
        }
    }
}

/// <summary>A logger that keeps what it is given.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Message)> Entries => _entries;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));

    public bool Has(LogLevel level, string fragment) =>
        _entries.Any(entry => entry.Level == level && entry.Message.Contains(fragment, StringComparison.Ordinal));
}

/// <summary>A remote that speaks raw yamux frames, for driving a session into corners a well-behaved peer avoids.</summary>
internal sealed class RawYamuxPeer
{
    private readonly IDuplexPipe _transport;

    public RawYamuxPeer(IDuplexPipe transport) => _transport = transport;

    public async Task SendAsync(YamuxFrameHeader header, byte[]? payload = null)
    {
        header.Write(_transport.Output);
        if (payload is not null)
        {
            await _transport.Output.WriteAsync(payload);
        }
        else
        {
            await _transport.Output.FlushAsync();
        }
    }

    public async Task SendRawAsync(byte[] bytes) => await _transport.Output.WriteAsync(bytes);

    public Task CloseAsync() => _transport.Output.CompleteAsync().AsTask();

    /// <summary>The next frame (with its payload when it is a data frame), or null at end of stream. Ping requests
    /// from the session's RTT measurement are skipped unless asked for.</summary>
    public async Task<(YamuxFrameHeader Header, byte[] Payload)?> ReadFrameAsync(bool includePingRequests = false)
    {
        var input = _transport.Input;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (YamuxFrameHeader.TryRead(buffer, out var header))
            {
                var payloadLength = header.Type == YamuxFrameType.Data ? header.Length : 0;
                if (buffer.Length >= YamuxFrameHeader.Size + payloadLength)
                {
                    var payload = buffer.Slice(YamuxFrameHeader.Size, payloadLength).ToArray();
                    input.AdvanceTo(buffer.GetPosition(YamuxFrameHeader.Size + payloadLength));
                    if (!includePingRequests && header.Type == YamuxFrameType.Ping && header.Has(YamuxFrameFlags.Syn))
                    {
                        continue;
                    }

                    return (header, payload);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>Reads frames until one matches <paramref name="match"/>; fails at end of stream.</summary>
    public async Task<(YamuxFrameHeader Header, byte[] Payload)> ReadUntilAsync(Func<YamuxFrameHeader, bool> match)
    {
        while (true)
        {
            var frame = await ReadFrameAsync() ?? throw new EndOfStreamException("the session closed the transport first");
            if (match(frame.Header))
            {
                return frame;
            }
        }
    }
}

/// <summary>Helpers shared by the yamux tests.</summary>
internal static class YamuxTestHelpers
{
    /// <summary>How long a test waits for something that should happen promptly before it fails instead of hanging.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Quiet defaults for tests: no keep-alive unless a test asks for it.</summary>
    public static readonly YamuxOptions Options = new() { KeepAliveInterval = null };

    public static YamuxSession Start(IDuplexPipe transport, Direction direction, YamuxOptions? options = null, ILogger? logger = null) =>
        new YamuxMuxer(options ?? Options).Start(transport, direction, logger ?? new CapturingLogger());

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after <see cref="Patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(deadline) > Patience)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(5);
        }
    }

    public static Task<T> WithPatience<T>(this Task<T> task) => task.WaitAsync(Patience);

    public static Task WithPatience(this Task task) => task.WaitAsync(Patience);

    public static Task<T> WithPatience<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Patience);

    /// <summary>Writes <paramref name="data"/> in chunks of <paramref name="chunkSize"/>, flushing each, then half-closes.</summary>
    public static async Task WriteAllAsync(IMuxedStream stream, ReadOnlyMemory<byte> data, int chunkSize = 16 * 1024)
    {
        for (var offset = 0; offset < data.Length; offset += chunkSize)
        {
            await stream.Output.WriteAsync(data.Slice(offset, Math.Min(chunkSize, data.Length - offset)));
        }

        await stream.CloseWriteAsync();
    }

    /// <summary>Reads until the remote half-closes.</summary>
    public static Task<byte[]> ReadAllAsync(IMuxedStream stream) => stream.Input.ReadToEndAsync();

    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
