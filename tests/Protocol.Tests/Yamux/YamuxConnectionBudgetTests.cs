using System.Security.Cryptography;
using FsCheck.Xunit;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;
using static ToolNet.Protocol.Tests.Yamux.YamuxTestHelpers;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>The per-connection receive budget (<see cref="YamuxOptions.MaxConnectionReceiveBuffer"/>) in sessions.</summary>
public class YamuxConnectionBudgetTests
{
    private const int Initial = YamuxOptions.SpecInitialWindowSize;

    [Fact]
    public void The_budget_must_cover_at_least_one_initial_window()
    {
        var options = Options with { InitialStreamWindowSize = 2 * Initial, MaxConnectionReceiveBuffer = (2 * Initial) - 1 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(YamuxOptions.MaxConnectionReceiveBuffer), e.ParamName);
        (options with { MaxConnectionReceiveBuffer = 2 * Initial }).Validate();
    }

    [Fact]
    public async Task A_SYN_beyond_the_budget_is_refused_with_RST_counted_and_logged_and_the_other_streams_carry_on()
    {
        using var transports = TransportPair.InMemory();
        var serverLog = new CapturingLogger();
        var client = Start(transports.Client, Direction.Outbound);
        var server = Start(transports.Server, Direction.Inbound, Options with { MaxConnectionReceiveBuffer = 3 * Initial }, serverLog);

        var opened = new List<IMuxedStream>();
        for (var i = 0; i < 4; i++)
        {
            var stream = await client.OpenStreamAsync().WithPatience();
            await stream.Output.WriteAsync(new[] { (byte)i });
            opened.Add(stream);
        }

        await Assert.ThrowsAsync<StreamResetException>(async () => await opened[3].Input.ReadAsync()).WithPatience();
        Assert.Equal(1, server.OverBudgetInboundStreamCount);
        Assert.Equal(0, server.RefusedInboundStreamCount);
        Assert.Equal(3 * Initial, server.ReservedReceiveBytes);
        Assert.True(serverLog.Has(LogLevel.Debug, "refusing inbound stream 7: its initial window of 262144 bytes does not fit the connection's receive budget"));

        var accepted = new List<IMuxedStream>();
        for (var i = 0; i < 3; i++)
        {
            var stream = (await server.AcceptStreamAsync().WithPatience())!;
            accepted.Add(stream);
            var result = await stream.Input.ReadAsync().WithPatience();
            Assert.Equal((byte)i, result.Buffer.FirstSpan[0]);
            stream.Input.AdvanceTo(result.Buffer.End);
        }

        // One ends (both sides closed, all read): its window goes back, and there is room for a new stream.
        await opened[0].CloseWriteAsync();
        Assert.Empty(await ReadAllAsync(accepted[0]).WithPatience());
        await WriteAllAsync(accepted[0], "bye"u8.ToArray());
        Assert.Equal("bye"u8.ToArray(), await ReadAllAsync(opened[0]).WithPatience());
        await WaitUntilAsync(() => server.ReservedReceiveBytes == 2 * Initial, "the ended stream's reservation is back");
        var later = await client.OpenStreamAsync().WithPatience();
        await WriteAllAsync(later, "later"u8.ToArray());
        Assert.Equal("later"u8.ToArray(), await ReadAllAsync((await server.AcceptStreamAsync().WithPatience())!).WithPatience());

        // The other two carried on throughout.
        for (var i = 1; i < 3; i++)
        {
            await WriteAllAsync(opened[i], "more"u8.ToArray());
            Assert.Equal("more"u8.ToArray(), await ReadAllAsync(accepted[i]).WithPatience());
        }

        Assert.Equal(1, server.OverBudgetInboundStreamCount);
        Assert.False(server.Completion.IsCompleted);

        await client.CloseAsync();
        await server.CloseAsync();
    }

    [Fact]
    public async Task Opening_a_stream_the_budget_cannot_cover_throws_and_the_session_stays_usable()
    {
        using var transports = TransportPair.InMemory();
        var client = Start(transports.Client, Direction.Outbound, Options with
        {
            InitialStreamWindowSize = 2 * Initial,
            MaxConnectionReceiveBuffer = 5 * Initial,
            MaxUnacknowledgedOutboundStreams = 3,
        });
        var server = Start(transports.Server, Direction.Inbound);

        var first = await client.OpenStreamAsync().WithPatience();
        var second = await client.OpenStreamAsync().WithPatience();
        Assert.Equal(4 * Initial, client.ReservedReceiveBytes);

        // Failed opens send nothing and give back their slot of the unacknowledged backlog (3 here): were they to keep
        // it, the open below would wait for good.
        for (var i = 0; i < 3; i++)
        {
            var e = await Assert.ThrowsAsync<YamuxReceiveBudgetExceededException>(async () => await client.OpenStreamAsync().WithPatience());
            Assert.IsAssignableFrom<IOException>(e);
            Assert.Equal(2 * Initial, e.WindowSize);
            Assert.Equal(4 * Initial, e.Reserved);
            Assert.Equal(5 * Initial, e.Capacity);
        }

        Assert.Equal(4 * Initial, client.ReservedReceiveBytes);
        await first.CloseWriteAsync();
        var atServer = (await server.AcceptStreamAsync().WithPatience())!;
        Assert.Equal(first.Id, atServer.Id);
        await atServer.DisposeAsync();
        await first.DisposeAsync();
        await WaitUntilAsync(() => client.ReservedReceiveBytes == 2 * Initial, "the first stream's reservation is back");
        var third = await client.OpenStreamAsync().WithPatience();
        Assert.Equal(5, third.Id);
        Assert.Equal(4 * Initial, client.ReservedReceiveBytes);

        GC.KeepAlive(second);
        await client.CloseAsync();
        await server.CloseAsync();
    }

    [Fact]
    public async Task Reservations_go_back_to_zero_after_close_and_reset_in_either_direction()
    {
        using var transports = TransportPair.InMemory();
        var client = Start(transports.Client, Direction.Outbound);
        var server = Start(transports.Server, Direction.Inbound, Options with { InitialStreamWindowSize = 2 * Initial });

        var pairs = new List<(IMuxedStream Client, IMuxedStream Server)>();
        for (var i = 0; i < 4; i++)
        {
            var stream = await client.OpenStreamAsync().WithPatience();
            await stream.Output.WriteAsync(new byte[1000]);
            pairs.Add((stream, (await server.AcceptStreamAsync().WithPatience())!));
        }

        Assert.Equal(4 * Initial, client.ReservedReceiveBytes);
        Assert.Equal(8 * Initial, server.ReservedReceiveBytes);

        // 0: a normal close, everything read. 1: the client resets. 2: the server resets. 3: the server stops
        // reading 1000 unread bytes.
        await pairs[0].Client.CloseWriteAsync();
        Assert.Equal(1000, (await ReadAllAsync(pairs[0].Server).WithPatience()).Length);
        await pairs[0].Server.CloseWriteAsync();
        await ReadAllAsync(pairs[0].Client).WithPatience();
        pairs[1].Client.Reset();
        pairs[2].Server.Reset();
        await pairs[3].Server.DisposeAsync();
        await pairs[3].Client.DisposeAsync();

        // A reset stream can no longer be read, but its unread bytes stay in memory, and reserved, until the
        // application drops them: here the 1000 bytes of each stream reset by either side.
        await WaitUntilAsync(() => server.ActiveStreamCount == 0 && client.ActiveStreamCount == 0, "all streams have ended");
        await WaitUntilAsync(() => server.ReservedReceiveBytes == 2000 && client.ReservedReceiveBytes == 0, "only unread bytes are reserved");
        await Assert.ThrowsAsync<StreamResetException>(async () => await pairs[1].Server.Input.ReadAsync());
        await pairs[1].Server.DisposeAsync();
        Assert.Equal(1000, server.ReservedReceiveBytes);
        await pairs[2].Server.DisposeAsync();
        Assert.Equal(0, server.ReservedReceiveBytes);

        await client.CloseAsync();
        await server.CloseAsync();
    }

    [Fact]
    public async Task Closing_the_connection_releases_every_stream_and_drops_unaccepted_ones()
    {
        using var transports = TransportPair.InMemory();
        var client = Start(transports.Client, Direction.Outbound);
        var server = Start(transports.Server, Direction.Inbound);
        var fromClient = new List<IMuxedStream>();
        for (var i = 0; i < 3; i++)
        {
            var stream = await client.OpenStreamAsync().WithPatience();
            await stream.Output.WriteAsync(new byte[100]);
            fromClient.Add(stream);
        }

        // Two accepted and left unread, one never accepted; one more stream the other way.
        var accepted = new[] { (await server.AcceptStreamAsync().WithPatience())!, (await server.AcceptStreamAsync().WithPatience())! };
        await server.OpenStreamAsync().WithPatience();
        await WaitUntilAsync(() => server.ReservedReceiveBytes == 4 * Initial && client.ReservedReceiveBytes == 4 * Initial, "all windows are reserved");
        await WaitUntilAsync(() => accepted.All(s => ((YamuxStream)s).BufferedReceiveBytes == 100), "the data has arrived");

        await server.CloseAsync();
        await client.Completion.WithPatience();

        // The client buffered nothing. The server holds the unread bytes of the two streams it handed out, until the
        // application drops them; the one nobody accepted is gone.
        Assert.Equal(0, client.ReservedReceiveBytes);
        Assert.Equal(200, server.ReservedReceiveBytes);
        foreach (var stream in accepted)
        {
            await stream.DisposeAsync();
        }

        Assert.Equal(0, server.ReservedReceiveBytes);
        GC.KeepAlive(fromClient);
    }

    [Fact]
    public async Task Auto_tuning_stops_growing_at_the_budget()
    {
        // Growth may take 3/4 of 2 MiB; the stream's window doubles from 256 KiB while it fits: 512 KiB, 1 MiB, but
        // not 2 MiB, far below MaxStreamWindowSize (16 MiB).
        const int Budget = 2 * 1024 * 1024;
        using var cancel = new CancellationTokenSource();
        using var transports = TransportPair.WithLatency(TimeSpan.FromMilliseconds(10), cancel.Token);
        var client = Start(transports.Client, Direction.Outbound);
        var server = Start(transports.Server, Direction.Inbound, Options with { MaxConnectionReceiveBuffer = Budget });
        await WaitUntilAsync(() => server.RoundTripTime is not null, "the server has measured the RTT");

        var data = RandomBytes(8 * 1024 * 1024, seed: 21);
        var sender = await client.OpenStreamAsync().WithPatience();
        var write = WriteAllAsync(sender, data, chunkSize: 64 * 1024);
        var receiver = (YamuxStream)(await server.AcceptStreamAsync().WithPatience())!;
        using var watch = ReservationWatch.Start(server);
        var received = await ReadAllAsync(receiver).WithPatience();
        await write.WithPatience();

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.True(receiver.ReceiveWindowSize > Initial, $"window stayed at {receiver.ReceiveWindowSize}");
        Assert.True(receiver.ReceiveWindowSize <= 1024 * 1024, $"window grew to {receiver.ReceiveWindowSize}");
        Assert.True(await watch.MaximumAsync() <= Budget);

        await receiver.DisposeAsync();
        await sender.DisposeAsync();
        await WaitUntilAsync(() => server.ReservedReceiveBytes == 0, "the stream's reservation is back");
        await client.CloseAsync();
        await server.CloseAsync();
        await cancel.CancelAsync();
    }

    /// <summary>Streams open, carry data, get read, close and reset in any order on a connection whose budgets are
    /// small on both sides: no session ever reserves more than its budget, and once every stream has ended and been
    /// dropped nothing is reserved.</summary>
    [Property(MaxTest = 25)]
    public async Task<bool> Random_opens_and_closes_stay_within_the_budget_and_end_at_zero((byte Op, byte Index, byte Kib)[] operations)
    {
        const int ClientBudget = 5 * Initial;
        const int ServerBudget = 3 * Initial;
        using var transports = TransportPair.InMemory();
        var client = Start(transports.Client, Direction.Outbound, Options with { MaxConnectionReceiveBuffer = ClientBudget });
        var server = Start(transports.Server, Direction.Inbound, Options with { MaxConnectionReceiveBuffer = ServerBudget });
        using var clientWatch = ReservationWatch.Start(client);
        using var serverWatch = ReservationWatch.Start(server);
        var ours = new List<(IMuxedStream Stream, int Written)>();
        var theirs = new List<IMuxedStream>();
        var accepting = Task.Run(async () =>
        {
            while (await server.AcceptStreamAsync() is { } stream)
            {
                lock (theirs)
                {
                    theirs.Add(stream);
                }
            }
        });

        foreach (var (op, index, kib) in operations)
        {
            switch (op % 6)
            {
                case 0:
                    try
                    {
                        ours.Add((await client.OpenStreamAsync().WithPatience(), 0));
                    }
                    catch (YamuxReceiveBudgetExceededException)
                    {
                    }

                    break;
                case 1 when ours.Count > 0:
                    // Never more than the initial window per stream, so that a write never waits for a reader.
                    var (stream, written) = ours[index % ours.Count];
                    var length = Math.Min(kib * 1024, Initial - written);
                    await Record.ExceptionAsync(async () => await stream.Output.WriteAsync(new byte[length]));
                    ours[index % ours.Count] = (stream, written + length);
                    break;
                case 2 when ours.Count > 0:
                    await ours[index % ours.Count].Stream.DisposeAsync();
                    break;
                case 3 when ours.Count > 0:
                    ours[index % ours.Count].Stream.Reset();
                    break;
                case 4:
                    await WithTheirsAsync(theirs, index, async stream =>
                    {
                        if (stream.Input.TryRead(out var result))
                        {
                            stream.Input.AdvanceTo(result.Buffer.GetPosition(Math.Min(result.Buffer.Length, kib * 1024)));
                        }

                        await Task.CompletedTask;
                    });
                    break;
                case 5:
                    await WithTheirsAsync(theirs, index, async stream =>
                    {
                        if (kib % 2 == 0)
                        {
                            stream.Reset();
                        }
                        else
                        {
                            await stream.DisposeAsync();
                        }
                    });
                    break;
            }
        }

        foreach (var (stream, _) in ours)
        {
            await stream.DisposeAsync();
        }

        // Our side's FINs end the streams the server accepted once it has closed them too; streams still on their way
        // to the accept loop are closed as they arrive. A stream that has ended on both sides is no longer active but
        // keeps what it buffered reserved until the application disposes it, so this goes on until both are zero.
        var deadline = TimeProvider.System.GetTimestamp();
        while (client.ActiveStreamCount != 0 || server.ActiveStreamCount != 0 || client.ReservedReceiveBytes != 0 || server.ReservedReceiveBytes != 0)
        {
            IMuxedStream[] accepted;
            lock (theirs)
            {
                accepted = [.. theirs];
            }

            foreach (var stream in accepted)
            {
                await stream.DisposeAsync();
            }

            Assert.True(
                TimeProvider.System.GetElapsedTime(deadline) < Patience,
                $"timed out waiting until every stream has ended ({client.ActiveStreamCount} and {server.ActiveStreamCount} active) and nothing is reserved ({client.ReservedReceiveBytes} and {server.ReservedReceiveBytes} bytes)");
            await Task.Delay(5);
        }

        await client.CloseAsync();
        await server.CloseAsync();
        await accepting.WithPatience();
        return await clientWatch.MaximumAsync() <= ClientBudget && await serverWatch.MaximumAsync() <= ServerBudget;
    }

    private static async Task WithTheirsAsync(List<IMuxedStream> theirs, byte index, Func<IMuxedStream, Task> action)
    {
        IMuxedStream? stream;
        lock (theirs)
        {
            stream = theirs.Count == 0 ? null : theirs[index % theirs.Count];
        }

        if (stream is not null)
        {
            await Record.ExceptionAsync(() => action(stream));
        }
    }

    /// <summary>Samples a session's <see cref="YamuxSession.ReservedReceiveBytes"/> in the background and keeps the
    /// largest value seen.</summary>
    private sealed class ReservationWatch : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task<long> _sampling;

        private ReservationWatch(YamuxSession session) => _sampling = Task.Run(async () =>
        {
            long maximum = 0;
            while (!_stop.IsCancellationRequested)
            {
                maximum = Math.Max(maximum, session.ReservedReceiveBytes);
                await Task.Delay(1);
            }

            return Math.Max(maximum, session.ReservedReceiveBytes);
        });

        public static ReservationWatch Start(YamuxSession session) => new(session);

        public async Task<long> MaximumAsync()
        {
            await _stop.CancelAsync();
            return await _sampling.WithPatience();
        }

        public void Dispose() => _stop.Cancel();
    }
}
