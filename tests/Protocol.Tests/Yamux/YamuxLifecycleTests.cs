using System.IO.Pipelines;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;
using static ToolNet.Protocol.Tests.Yamux.YamuxTestHelpers;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>Cancellation, closing against a stuck remote, and FIN/RST/dispose racing each other.</summary>
public class YamuxLifecycleTests
{
    [Fact]
    public async Task Cancelled_waits_throw_and_leak_nothing()
    {
        using var transports = TransportPair.InMemory();
        var session = Start(transports.Client, Direction.Outbound, Options with { MaxUnacknowledgedOutboundStreams = 1 });
        var remote = new RawYamuxPeer(transports.Server);

        using (var cancel = new CancellationTokenSource())
        {
            var accept = session.AcceptStreamAsync(cancel.Token).AsTask();
            var ping = session.PingAsync(cancel.Token);
            await session.OpenStreamAsync().WithPatience();
            var blockedOpen = session.OpenStreamAsync(cancel.Token).AsTask();
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accept).WithPatience();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ping).WithPatience();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blockedOpen).WithPatience();
        }

        // The cancelled open took no backlog slot: one ACK frees the only slot for the next open.
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Ack, 0));
        Assert.Equal(3, (await session.OpenStreamAsync().WithPatience()).Id);
        await session.CloseAsync();
    }

    [Fact]
    public async Task Closing_against_a_remote_that_reads_nothing_gives_up_after_the_close_timeout()
    {
        // A transport that holds at most 1 KiB: once it is full, every flush waits for a reader that never comes.
        var toRemote = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var fromRemote = new Pipe();
        var session = Start(new DuplexPipe(fromRemote.Reader, toRemote.Writer), Direction.Outbound, Options with { CloseTimeout = TimeSpan.FromMilliseconds(100) });
        var stream = await session.OpenStreamAsync().WithPatience();
        // More than the stream's send buffer, so that the write waits.
        var write = stream.Output.WriteAsync(new byte[1024 * 1024]).AsTask();
        await WaitUntilAsync(() => ((YamuxStream)stream).SendWindow < YamuxOptions.SpecInitialWindowSize, "the transport is full");
        Assert.False(write.IsCompleted);

        await session.CloseAsync().AsTask().WithPatience();
        await session.Completion.WithPatience();
        Assert.IsType<StreamResetException>(await Record.ExceptionAsync(() => write).WithPatience());
        Assert.Equal(0, session.ActiveStreamCount);
    }

    [Fact]
    public async Task Cancelling_close_stops_flushing_at_once()
    {
        var toRemote = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var fromRemote = new Pipe();
        var session = Start(new DuplexPipe(fromRemote.Reader, toRemote.Writer), Direction.Outbound, Options with { CloseTimeout = TimeSpan.FromHours(1) });
        var stream = await session.OpenStreamAsync().WithPatience();
        _ = stream.Output.WriteAsync(new byte[64 * 1024]).AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
        await WaitUntilAsync(() => ((YamuxStream)stream).SendWindow < YamuxOptions.SpecInitialWindowSize, "data is being sent");

        using var cancel = new CancellationTokenSource();
        var close = session.CloseAsync(cancel.Token).AsTask();
        await cancel.CancelAsync();
        await close.WithPatience();
        await session.Completion.WithPatience();
    }

    [Fact]
    public async Task Closing_twice_and_disposing_are_harmless()
    {
        using var transports = TransportPair.InMemory();
        var session = Start(transports.Client, Direction.Outbound);
        await session.CloseAsync();
        await session.CloseAsync();
        await session.DisposeAsync();
        await session.Completion;
        Assert.Null(await session.AcceptStreamAsync());
        await Assert.ThrowsAsync<IOException>(() => session.PingAsync());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task FIN_RST_and_dispose_racing_on_many_streams_leave_nothing_behind(int seed)
    {
        using var transports = TransportPair.InMemory();

        // 150 streams open at once hold 150 initial windows (37.5 MiB), over the default 32 MiB receive budget: on a
        // loaded machine they all overlap, and opens past the budget would throw. This test is about the races.
        var roomForAll = Options with { MaxConnectionReceiveBuffer = 256L * 1024 * 1024 };
        var client = Start(transports.Client, Direction.Outbound, roomForAll);
        var server = Start(transports.Server, Direction.Inbound, roomForAll);
        var random = new Random(seed);
        var plans = Enumerable.Range(0, 150).Select(_ => (ClientAction: random.Next(4), ServerAction: random.Next(4), Bytes: random.Next(0, 600_000))).ToArray();

        var serverSide = Task.Run(async () =>
        {
            // Streams the client resets before they are accepted are never handed out, so accept until closed.
            var work = new List<Task>();
            while (await server.AcceptStreamAsync() is { } stream)
            {
                var plan = plans[(int)(stream.Id / 2) % plans.Length];
                work.Add(Task.Run(() => PlayAsync(stream, plan.ServerAction, plan.Bytes)));
            }

            await Task.WhenAll(work);
        });

        var clientSide = plans.Select(plan => Task.Run(async () =>
        {
            var stream = await client.OpenStreamAsync();
            await stream.Output.WriteAsync(new byte[1]);
            await PlayAsync(stream, plan.ClientAction, plan.Bytes);
        })).ToArray();

        await Task.WhenAll(clientSide).WithPatience();
        await WaitUntilAsync(() => client.ActiveStreamCount == 0 && server.ActiveStreamCount == 0, "every stream is gone");
        Assert.False(client.Completion.IsCompleted);
        Assert.False(server.Completion.IsCompleted);
        await client.CloseAsync();
        await server.CloseAsync();
        await serverSide.WithPatience();
        await client.Completion;
        await server.Completion;
    }

    /// <summary>Writes and reads concurrently, then ends the stream one of four ways; only resets may fail it.</summary>
    private static async Task PlayAsync(IMuxedStream stream, int action, int bytes)
    {
        var read = Task.Run(async () =>
        {
            while (true)
            {
                var result = await stream.Input.ReadAsync();
                stream.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        });
        var write = Task.Run(async () =>
        {
            var chunk = new byte[8192];
            for (var sent = 0; sent < bytes; sent += chunk.Length)
            {
                await stream.Output.WriteAsync(chunk);
            }

            if (action != 3)
            {
                await stream.CloseWriteAsync();
            }
        });

        var first = await Task.WhenAny(read, write);
        switch (action)
        {
            case 0:
                // Graceful: both directions to the end, then dispose.
                await IgnoreResetAsync(write);
                await IgnoreResetAsync(read);
                await stream.DisposeAsync();
                break;
            case 1:
                // Reset as soon as either direction finishes.
                stream.Reset();
                break;
            case 2:
                // Dispose without reading to the end: later data resets the stream.
                await IgnoreResetAsync(write);
                await stream.DisposeAsync();
                break;
            default:
                // Dispose while writing, then reset for good measure.
                await stream.DisposeAsync();
                stream.Reset();
                break;
        }

        await IgnoreResetAsync(read);
        await IgnoreResetAsync(write);
        await IgnoreResetAsync(first);
    }

    private static async Task IgnoreResetAsync(Task task)
    {
        try
        {
            await task.WithPatience();
        }
        catch (StreamResetException)
        {
        }
        catch (ObjectDisposedException)
        {
            // A read pending while we disposed the stream.
        }
        catch (InvalidOperationException)
        {
            // Reading or writing after our own dispose completed the pipe.
        }
    }
}
