using System.Security.Cryptography;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;
using static ToolNet.Protocol.Tests.Yamux.YamuxTestHelpers;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>Two yamux sessions talking to each other, over pipes back to back.</summary>
public sealed class YamuxSessionInMemoryTests : YamuxSessionTests
{
    private protected override Task<TransportPair> ConnectAsync() => Task.FromResult(TransportPair.InMemory());
}

/// <summary>Two yamux sessions talking to each other over a real loopback TCP connection.</summary>
public sealed class YamuxSessionTcpTests : YamuxSessionTests
{
    private protected override Task<TransportPair> ConnectAsync() => TransportPair.LoopbackTcpAsync();
}

/// <summary>The session behaviour, run over every transport.</summary>
public abstract class YamuxSessionTests
{
    private protected abstract Task<TransportPair> ConnectAsync();

    private async Task<Peers> StartAsync(YamuxOptions? clientOptions = null, YamuxOptions? serverOptions = null)
    {
        var transports = await ConnectAsync();
        var clientLog = new CapturingLogger();
        var serverLog = new CapturingLogger();
        return new Peers(
            transports,
            Start(transports.Client, Direction.Outbound, clientOptions, clientLog),
            Start(transports.Server, Direction.Inbound, serverOptions, serverLog),
            clientLog,
            serverLog);
    }

    [Fact]
    public async Task Opens_accepts_and_exchanges_data_with_client_odd_and_server_even_ids()
    {
        await using var peers = await StartAsync();
        var outbound = await peers.Client.OpenStreamAsync().WithPatience();
        await outbound.Output.WriteAsync("hello"u8.ToArray());
        var inbound = (await peers.Server.AcceptStreamAsync().WithPatience())!;
        Assert.Equal(1, outbound.Id);
        Assert.Equal(1, inbound.Id);
        Assert.Equal(Direction.Outbound, outbound.Direction);
        Assert.Equal(Direction.Inbound, inbound.Direction);

        var fromServer = await peers.Server.OpenStreamAsync().WithPatience();
        await fromServer.CloseWriteAsync();
        var atClient = (await peers.Client.AcceptStreamAsync().WithPatience())!;
        Assert.Equal(2, fromServer.Id);
        Assert.Equal(2, atClient.Id);
        Assert.Empty(await ReadAllAsync(atClient).WithPatience());

        await outbound.CloseWriteAsync();
        Assert.Equal("hello"u8.ToArray(), await ReadAllAsync(inbound).WithPatience());
        await WriteAllAsync(inbound, "world"u8.ToArray());
        Assert.Equal("world"u8.ToArray(), await ReadAllAsync(outbound).WithPatience());
        await atClient.CloseWriteAsync();

        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task Hundred_concurrent_streams_carry_data_both_ways_intact()
    {
        await using var peers = await StartAsync();
        var echo = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < 100; i++)
            {
                var stream = (await peers.Server.AcceptStreamAsync())!;
                echoes.Add(Task.Run(async () =>
                {
                    // Echo while reading: both directions are in flight at once.
                    await stream.Input.CopyToAsync(stream.Output);
                    await stream.CloseWriteAsync();
                }));
            }

            await Task.WhenAll(echoes);
        });

        var transfers = Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            var data = RandomBytes(1 + (i * 3001 % 300_000), seed: i);
            var stream = await peers.Client.OpenStreamAsync();
            var send = WriteAllAsync(stream, data, chunkSize: 1 + (i * 977 % 40_000));
            var received = await ReadAllAsync(stream);
            await send;
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
            await stream.DisposeAsync();
        })).ToArray();

        await Task.WhenAll(transfers).WithPatience();
        await echo.WithPatience();
        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task A_reader_that_does_not_read_stops_the_writer_at_the_window_and_nothing_is_lost()
    {
        await using var peers = await StartAsync();
        var data = RandomBytes(4 * 1024 * 1024, seed: 7);
        var sender = (YamuxStream)await peers.Client.OpenStreamAsync().WithPatience();
        var write = WriteAllAsync(sender, data, chunkSize: 64 * 1024);
        var receiver = (YamuxStream)(await peers.Server.AcceptStreamAsync().WithPatience())!;

        // Nobody reads yet: the sender uses up exactly the window and then waits for a window update.
        await WaitUntilAsync(() => sender.SendWindow == 0 && receiver.BufferedReceiveBytes == YamuxOptions.SpecInitialWindowSize, "the sender has filled the window");
        Assert.False(write.IsCompleted);
        Assert.Equal(YamuxOptions.SpecInitialWindowSize, receiver.ReceiveWindowSize);

        var received = await ReadAllAsync(receiver).WithPatience();
        await write.WithPatience();
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.True(receiver.ReceiveWindowSize <= peers.Server.Options.MaxStreamWindowSize);
        await receiver.DisposeAsync();
        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task A_larger_initial_window_is_granted_with_the_SYN_and_the_ACK()
    {
        var options = Options with { InitialStreamWindowSize = 1024 * 1024 };
        await using var peers = await StartAsync(options, options);
        var sender = (YamuxStream)await peers.Client.OpenStreamAsync().WithPatience();
        await sender.Output.WriteAsync(new byte[1]);
        var receiver = (YamuxStream)(await peers.Server.AcceptStreamAsync().WithPatience())!;

        // The client granted 1 MiB with its SYN; the server grants it with the ACK sent on accept.
        await WaitUntilAsync(() => sender.SendWindow == (1024 * 1024) - 1, "the ACK's window update has arrived");
        var back = await peers.Server.OpenStreamAsync().WithPatience();
        var atClient = (YamuxStream)(await peers.Client.AcceptStreamAsync().WithPatience())!;
        await WaitUntilAsync(() => ((YamuxStream)back).SendWindow == 1024 * 1024, "the SYN's window update has arrived");
        Assert.Equal(1024 * 1024, atClient.ReceiveWindowSize);
        Assert.Equal(1024 * 1024, receiver.ReceiveWindowSize);
    }

    [Fact]
    public async Task Half_close_by_the_opener_first_then_the_acceptor()
    {
        await using var peers = await StartAsync();
        var client = await peers.Client.OpenStreamAsync().WithPatience();
        await WriteAllAsync(client, "request"u8.ToArray());
        var server = (await peers.Server.AcceptStreamAsync().WithPatience())!;
        Assert.Equal("request"u8.ToArray(), await ReadAllAsync(server).WithPatience());

        // The client's side is closed; the server can still write, and the client still read.
        Assert.Equal(1, peers.Client.ActiveStreamCount);
        await WriteAllAsync(server, "response"u8.ToArray());
        Assert.Equal("response"u8.ToArray(), await ReadAllAsync(client).WithPatience());
        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task Half_close_by_the_acceptor_first_then_the_opener()
    {
        await using var peers = await StartAsync();
        var client = await peers.Client.OpenStreamAsync().WithPatience();
        await client.Output.WriteAsync("ping"u8.ToArray());
        var server = (await peers.Server.AcceptStreamAsync().WithPatience())!;
        await WriteAllAsync(server, "early close"u8.ToArray());
        Assert.Equal("early close"u8.ToArray(), await ReadAllAsync(client).WithPatience());

        await client.Output.WriteAsync(" more after the remote's FIN"u8.ToArray());
        await client.CloseWriteAsync();
        Assert.Equal("ping more after the remote's FIN"u8.ToArray(), await ReadAllAsync(server).WithPatience());
        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task A_reset_mid_transfer_reaches_the_other_side_and_spares_other_streams()
    {
        await using var peers = await StartAsync();
        var doomed = await peers.Client.OpenStreamAsync().WithPatience();
        var survivor = await peers.Client.OpenStreamAsync().WithPatience();
        var survivorData = RandomBytes(3 * 1024 * 1024, seed: 3);
        var doomedWrite = Task.Run(async () =>
        {
            var chunk = new byte[32 * 1024];
            while (true)
            {
                await doomed.Output.WriteAsync(chunk);
            }
        });
        var survivorWrite = WriteAllAsync(survivor, survivorData);

        var doomedAtServer = (await peers.Server.AcceptStreamAsync().WithPatience())!;
        var survivorAtServer = (await peers.Server.AcceptStreamAsync().WithPatience())!;
        var some = await doomedAtServer.Input.ReadAsync().WithPatience();
        doomedAtServer.Input.AdvanceTo(some.Buffer.End);
        doomedAtServer.Reset();

        await Assert.ThrowsAsync<StreamResetException>(() => doomedWrite).WithPatience();
        await Assert.ThrowsAsync<StreamResetException>(async () => await doomed.Input.ReadAsync()).WithPatience();
        await Assert.ThrowsAsync<StreamResetException>(async () => await doomedAtServer.Input.ReadAsync()).WithPatience();

        var received = await ReadAllAsync(survivorAtServer).WithPatience();
        await survivorWrite.WithPatience();
        Assert.Equal(SHA256.HashData(survivorData), SHA256.HashData(received));
        await survivorAtServer.CloseWriteAsync();
        Assert.Empty(await ReadAllAsync(survivor).WithPatience());
        await peers.WaitForNoStreamsAsync();
    }

    [Fact]
    public async Task Closing_sends_go_away_and_the_remote_opens_no_more_streams()
    {
        await using var peers = await StartAsync();
        var stream = await peers.Client.OpenStreamAsync().WithPatience();
        await stream.Output.WriteAsync(new byte[] { 1 });
        var atServer = (await peers.Server.AcceptStreamAsync().WithPatience())!;

        await peers.Client.CloseAsync().AsTask().WithPatience();
        await peers.Client.Completion.WithPatience();
        await WaitUntilAsync(() => peers.Server.RemoteGoAwayCode == YamuxGoAwayCode.Normal, "the server has seen the go-away");
        await Assert.ThrowsAsync<IOException>(async () => await peers.Server.OpenStreamAsync());
        await Assert.ThrowsAsync<IOException>(async () => await peers.Client.OpenStreamAsync());

        // The client's open stream was aborted by its close.
        await Assert.ThrowsAsync<StreamResetException>(async () => await stream.Input.ReadAsync());
        Assert.Null(await peers.Client.AcceptStreamAsync().WithPatience());
        Assert.Equal(0, peers.Client.ActiveStreamCount);
        GC.KeepAlive(atServer);
    }

    [Fact]
    public async Task Inbound_streams_beyond_the_cap_are_refused_and_counted()
    {
        await using var peers = await StartAsync(serverOptions: Options with { MaxInboundStreams = 4 });
        var streams = new List<IMuxedStream>();
        for (var i = 0; i < 6; i++)
        {
            var stream = await peers.Client.OpenStreamAsync().WithPatience();
            await stream.Output.WriteAsync(new[] { (byte)i });
            streams.Add(stream);
        }

        await WaitUntilAsync(() => peers.Server.RefusedInboundStreamCount == 2, "two streams were refused");
        foreach (var refused in streams.Skip(4))
        {
            await Assert.ThrowsAsync<StreamResetException>(async () => await refused.Input.ReadAsync()).WithPatience();
        }

        for (var i = 0; i < 4; i++)
        {
            var accepted = (await peers.Server.AcceptStreamAsync().WithPatience())!;
            var result = await accepted.Input.ReadAsync().WithPatience();
            Assert.Equal((byte)i, result.Buffer.FirstSpan[0]);
            accepted.Input.AdvanceTo(result.Buffer.End);
            await accepted.DisposeAsync();
            await streams[i].DisposeAsync();
        }

        await peers.WaitForNoStreamsAsync();
        Assert.Equal(2, peers.Server.RefusedInboundStreamCount);

        // Room again: a new stream is accepted.
        var later = await peers.Client.OpenStreamAsync().WithPatience();
        await later.CloseWriteAsync();
        Assert.NotNull(await peers.Server.AcceptStreamAsync().WithPatience());
    }

    [Fact]
    public async Task Ping_measures_the_round_trip_both_ways()
    {
        await using var peers = await StartAsync();
        var fromClient = await peers.Client.PingAsync().WithPatience();
        var fromServer = await peers.Server.PingAsync().WithPatience();
        Assert.True(fromClient > TimeSpan.Zero);
        Assert.True(fromServer > TimeSpan.Zero);
        Assert.NotNull(peers.Client.RoundTripTime);
        Assert.NotNull(peers.Server.RoundTripTime);
    }

    [Fact]
    public async Task Keep_alive_pings_are_answered_and_the_connection_stays_up()
    {
        var keepAlive = Options with { KeepAliveInterval = TimeSpan.FromMilliseconds(20), KeepAliveTimeout = TimeSpan.FromSeconds(20) };
        await using var peers = await StartAsync(keepAlive, keepAlive);
        var first = await peers.Client.PingAsync().WithPatience();

        // Several keep-alive rounds later, both sides are still open and still measuring.
        await Task.Delay(200);
        Assert.False(peers.Client.Completion.IsCompleted);
        Assert.False(peers.Server.Completion.IsCompleted);
        Assert.True(first > TimeSpan.Zero);
        var stream = await peers.Client.OpenStreamAsync().WithPatience();
        await stream.CloseWriteAsync();
        Assert.NotNull(await peers.Server.AcceptStreamAsync().WithPatience());
    }

    [Fact]
    public async Task Disposing_streams_on_both_sides_brings_the_counts_back_to_zero()
    {
        await using var peers = await StartAsync();
        var opened = new List<IMuxedStream>();
        for (var i = 0; i < 10; i++)
        {
            var stream = await peers.Client.OpenStreamAsync().WithPatience();
            await stream.Output.WriteAsync(new byte[100]);
            opened.Add(stream);
        }

        var accepted = new List<IMuxedStream>();
        for (var i = 0; i < 10; i++)
        {
            accepted.Add((await peers.Server.AcceptStreamAsync().WithPatience())!);
        }

        Assert.Equal(10, peers.Client.ActiveStreamCount);
        Assert.Equal(10, peers.Server.ActiveStreamCount);

        // Half reset, half closed gracefully.
        for (var i = 0; i < 10; i++)
        {
            if (i % 2 == 0)
            {
                opened[i].Reset();
            }
            else
            {
                await opened[i].DisposeAsync();
                await accepted[i].DisposeAsync();
            }
        }

        await peers.WaitForNoStreamsAsync();
    }

    /// <summary>A connected client and server session.</summary>
    private sealed class Peers(TransportPair transports, YamuxSession client, YamuxSession server, CapturingLogger clientLog, CapturingLogger serverLog) : IAsyncDisposable
    {
        public YamuxSession Client { get; } = client;

        public YamuxSession Server { get; } = server;

        public async Task WaitForNoStreamsAsync()
        {
            await WaitUntilAsync(() => Client.ActiveStreamCount == 0 && Server.ActiveStreamCount == 0, "both sessions have no streams left");
        }

        public async ValueTask DisposeAsync()
        {
            await Client.CloseAsync().AsTask().WithPatience();
            await Server.CloseAsync().AsTask().WithPatience();
            Assert.Equal(0, Client.ActiveStreamCount);
            Assert.Equal(0, Server.ActiveStreamCount);
            transports.Dispose();

            // Nothing in these tests breaks the protocol.
            Assert.DoesNotContain(clientLog.Entries, entry => entry.Message.Contains("broke the protocol", StringComparison.Ordinal));
            Assert.DoesNotContain(serverLog.Entries, entry => entry.Message.Contains("broke the protocol", StringComparison.Ordinal));
        }
    }
}
