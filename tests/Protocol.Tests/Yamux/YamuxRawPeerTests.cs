using FsCheck.Xunit;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;
using static ToolNet.Protocol.Tests.Yamux.YamuxTestHelpers;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>A session facing a remote that writes raw frames: the corners a well-behaved peer never reaches.</summary>
public class YamuxRawPeerTests
{
    private static (YamuxSession Session, RawYamuxPeer Remote, CapturingLogger Log) StartClient(YamuxOptions? options = null)
    {
        var transports = TransportPair.InMemory();
        var log = new CapturingLogger();
        return (Start(transports.Client, Direction.Outbound, options, log), new RawYamuxPeer(transports.Server), log);
    }

    [Fact]
    public async Task A_malformed_header_closes_the_connection_with_a_logged_reason_and_a_protocol_error_go_away()
    {
        var (session, remote, log) = StartClient();
        await remote.SendRawAsync(Convert.FromHexString("010000000000000100000000"));

        var e = await Assert.ThrowsAsync<WireFormatException>(() => session.Completion).WithPatience();
        Assert.Contains("version", e.Message, StringComparison.Ordinal);
        Assert.True(log.Has(LogLevel.Warning, "unsupported yamux version 1"));
        var goAway = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.GoAway).WithPatience();
        Assert.Equal((uint)YamuxGoAwayCode.ProtocolError, goAway.Header.Length);
        Assert.Null(await remote.ReadFrameAsync().WithPatience());
        await Assert.ThrowsAsync<IOException>(async () => await session.OpenStreamAsync());
    }

    [Fact]
    public async Task Data_beyond_the_granted_window_is_a_protocol_error()
    {
        var (session, remote, log) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.Data(2, YamuxFrameFlags.Syn, YamuxOptions.SpecInitialWindowSize), new byte[YamuxOptions.SpecInitialWindowSize]);
        var stream = (await session.AcceptStreamAsync().WithPatience())!;
        await remote.SendAsync(YamuxFrameHeader.Data(2, YamuxFrameFlags.None, 1), new byte[1]);

        await Assert.ThrowsAsync<WireFormatException>(() => session.Completion).WithPatience();
        Assert.True(log.Has(LogLevel.Warning, "beyond the window we granted"));
        var goAway = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.GoAway).WithPatience();
        Assert.Equal((uint)YamuxGoAwayCode.ProtocolError, goAway.Header.Length);
        await Assert.ThrowsAsync<StreamResetException>(async () => await stream.Input.ReadAsync());
        Assert.Equal(0, session.ActiveStreamCount);
    }

    [Theory]
    [InlineData("a SYN with our parity", 1u, YamuxFrameType.WindowUpdate, YamuxFrameFlags.Syn, 0u, "our parity")]
    [InlineData("data on stream 0", 0u, YamuxFrameType.Data, YamuxFrameFlags.None, 0u, "stream 0")]
    [InlineData("a data frame larger than any window", 2u, YamuxFrameType.Data, YamuxFrameFlags.Syn, 16u * 1024 * 1024 + 1, "larger than any window")]
    [InlineData("a window overflowing 2^32-1", 2u, YamuxFrameType.WindowUpdate, YamuxFrameFlags.Syn, uint.MaxValue, "beyond 2^32-1")]
    public async Task Session_level_violations_close_the_connection(string what, uint streamId, YamuxFrameType type, YamuxFrameFlags flags, uint length, string reason)
    {
        var (session, remote, log) = StartClient();
        await remote.SendAsync(new YamuxFrameHeader(type, flags, streamId, length));

        var e = await Assert.ThrowsAsync<WireFormatException>(() => session.Completion).WithPatience();
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.True(log.Has(LogLevel.Warning, reason), what);
    }

    [Fact]
    public async Task Opening_the_same_stream_twice_is_a_protocol_error()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Syn, 0));
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Syn, 0));
        var e = await Assert.ThrowsAsync<WireFormatException>(() => session.Completion).WithPatience();
        Assert.Contains("twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_cut_in_the_middle_of_a_frame_faults_the_completion()
    {
        var (session, remote, _) = StartClient();
        await remote.SendRawAsync(Convert.FromHexString("00000001000000020000000568656c"));
        await remote.CloseAsync();
        var e = await Assert.ThrowsAsync<IOException>(() => session.Completion).WithPatience();
        Assert.Contains("middle of a yamux frame", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_clean_end_of_stream_completes_the_session_normally()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.Data(2, YamuxFrameFlags.Syn | YamuxFrameFlags.Fin, 2), "hi"u8.ToArray());
        var stream = (await session.AcceptStreamAsync().WithPatience())!;
        await remote.CloseAsync();
        await session.Completion.WithPatience();

        // What arrived with the FIN before the end is still readable.
        Assert.Equal("hi"u8.ToArray(), await ReadAllAsync(stream).WithPatience());
    }

    [Fact]
    public async Task Keep_alive_closes_a_connection_whose_remote_stopped_answering()
    {
        var options = Options with { KeepAliveInterval = TimeSpan.FromMilliseconds(50), KeepAliveTimeout = TimeSpan.FromMilliseconds(200) };
        var (session, remote, log) = StartClient(options);

        // The remote reads our pings but never answers.
        var ping = await remote.ReadFrameAsync(includePingRequests: true).WithPatience();
        Assert.Equal(YamuxFrameType.Ping, ping!.Value.Header.Type);
        var e = await Assert.ThrowsAsync<TimeoutException>(() => session.Completion).WithPatience();
        Assert.Contains("keep-alive", e.Message, StringComparison.Ordinal);
        Assert.True(log.Has(LogLevel.Warning, "did not answer a keep-alive ping"));
    }

    [Fact]
    public async Task Answers_pings_with_the_same_opaque_value()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.Ping(YamuxFrameFlags.Syn, 0xDEADBEEF));
        var pong = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping).WithPatience();
        Assert.Equal(YamuxFrameHeader.Ping(YamuxFrameFlags.Ack, 0xDEADBEEF), pong.Header);
        await session.CloseAsync();
    }

    [Fact]
    public async Task Ping_returns_when_the_matching_answer_arrives()
    {
        var (session, remote, _) = StartClient();
        var measured = session.PingAsync();

        // The session's own start-up ping comes first, then ours; answer only ours.
        await remote.ReadFrameAsync(includePingRequests: true).WithPatience();
        var request = (await remote.ReadFrameAsync(includePingRequests: true).WithPatience())!.Value.Header;
        Assert.Equal(YamuxFrameFlags.Syn, request.Flags);
        await remote.SendAsync(YamuxFrameHeader.Ping(YamuxFrameFlags.Ack, request.Length + 1000));
        await remote.SendAsync(YamuxFrameHeader.Ping(YamuxFrameFlags.Ack, request.Length));
        Assert.True(await measured.WithPatience() >= TimeSpan.Zero);
        Assert.NotNull(session.RoundTripTime);
        await session.CloseAsync();
        Assert.Null(session.RemoteGoAwayCode);
    }

    [Fact]
    public async Task A_remote_go_away_stops_new_outbound_streams_but_not_existing_ones()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Syn, 0));
        var existing = (await session.AcceptStreamAsync().WithPatience())!;
        await remote.SendAsync(YamuxFrameHeader.GoAway(YamuxGoAwayCode.Normal));
        await WaitUntilAsync(() => session.RemoteGoAwayCode == YamuxGoAwayCode.Normal, "the go-away has arrived");

        var e = await Assert.ThrowsAsync<IOException>(async () => await session.OpenStreamAsync());
        Assert.Contains("go-away", e.Message, StringComparison.Ordinal);
        Assert.False(session.Completion.IsCompleted);

        await remote.SendAsync(YamuxFrameHeader.Data(2, YamuxFrameFlags.Fin, 5), "still"u8.ToArray());
        Assert.Equal("still"u8.ToArray(), await ReadAllAsync(existing).WithPatience());
        await WriteAllAsync(existing, "fine"u8.ToArray());
        var data = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Data && h.Length > 0).WithPatience();
        Assert.Equal("fine"u8.ToArray(), data.Payload);
        await session.CloseAsync();
    }

    [Fact]
    public async Task Acknowledges_an_inbound_stream_when_the_application_accepts_it()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Syn, 0));
        await session.AcceptStreamAsync().WithPatience();
        var ack = await remote.ReadUntilAsync(h => h.StreamId == 2).WithPatience();
        Assert.Equal(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Ack, 0), ack.Header);
        await session.CloseAsync();
    }

    [Fact]
    public async Task Opening_sends_the_SYN_at_once_with_the_extra_window_and_FIN_in_a_frame_of_its_own()
    {
        var (session, remote, _) = StartClient(Options with { InitialStreamWindowSize = 16 * 1024 * 1024 });
        var stream = await session.OpenStreamAsync().WithPatience();
        var syn = await remote.ReadUntilAsync(h => h.StreamId == 1).WithPatience();
        Assert.Equal(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Syn, (16 * 1024 * 1024) - (256 * 1024)), syn.Header);

        // Then data carries no flags, and the FIN comes in a zero-length data frame of its own (js-libp2p's yamux
        // loses the payload of a data frame that also carries FIN).
        await WriteAllAsync(stream, "x"u8.ToArray());
        var data = await remote.ReadUntilAsync(h => h.StreamId == 1).WithPatience();
        Assert.Equal(YamuxFrameHeader.Data(1, YamuxFrameFlags.None, 1), data.Header);
        Assert.Equal("x"u8.ToArray(), data.Payload);
        var fin = await remote.ReadUntilAsync(h => h.StreamId == 1).WithPatience();
        Assert.Equal(YamuxFrameHeader.Data(1, YamuxFrameFlags.Fin, 0), fin.Header);
        await session.CloseAsync();
    }

    [Fact]
    public async Task Never_sends_beyond_the_remote_window_and_resumes_on_a_window_update()
    {
        var (session, remote, _) = StartClient();
        var stream = await session.OpenStreamAsync().WithPatience();
        var write = stream.Output.WriteAsync(new byte[YamuxOptions.SpecInitialWindowSize + 1000]).AsTask();

        long sent = 0;
        while (sent < YamuxOptions.SpecInitialWindowSize)
        {
            var frame = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Data).WithPatience();
            sent += frame.Payload.Length;
        }

        Assert.Equal(YamuxOptions.SpecInitialWindowSize, sent);
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Ack, 400));
        var more = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Data).WithPatience();
        Assert.Equal(400, more.Payload.Length);
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.None, 10_000));
        var rest = await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Data).WithPatience();
        Assert.Equal(600, rest.Payload.Length);
        await write.WithPatience();
        await session.CloseAsync();
    }

    [Fact]
    public async Task Unacknowledged_outbound_streams_are_capped_until_the_remote_acknowledges()
    {
        var (session, remote, _) = StartClient(Options with { MaxUnacknowledgedOutboundStreams = 2 });
        await session.OpenStreamAsync().WithPatience();
        await session.OpenStreamAsync().WithPatience();
        var third = session.OpenStreamAsync().AsTask();
        await remote.ReadUntilAsync(h => h.StreamId == 3).WithPatience();
        Assert.False(third.IsCompleted);

        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Ack, 0));
        Assert.Equal(5, (await third.WithPatience()).Id);
        await session.CloseAsync();
    }

    [Fact]
    public async Task A_stream_the_remote_refuses_with_RST_fails_with_a_reset()
    {
        var (session, remote, _) = StartClient();
        var stream = await session.OpenStreamAsync().WithPatience();
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Rst, 0));
        await Assert.ThrowsAsync<StreamResetException>(async () => await stream.Input.ReadAsync()).WithPatience();
        await WaitUntilAsync(() => session.ActiveStreamCount == 0, "the reset stream is gone");
        await Assert.ThrowsAsync<StreamResetException>(async () => await stream.Output.WriteAsync(new byte[1]));
        await session.CloseAsync();
    }

    [Fact]
    public async Task Data_after_the_reader_closed_resets_the_stream()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Syn, 0));
        var stream = (await session.AcceptStreamAsync().WithPatience())!;
        await stream.DisposeAsync();
        var fin = await remote.ReadUntilAsync(h => h.StreamId == 2 && h.Has(YamuxFrameFlags.Fin)).WithPatience();
        Assert.Equal(YamuxFrameType.Data, fin.Header.Type);

        await remote.SendAsync(YamuxFrameHeader.Data(2, YamuxFrameFlags.None, 3), "abc"u8.ToArray());
        var rst = await remote.ReadUntilAsync(h => h.StreamId == 2).WithPatience();
        Assert.Equal(YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Rst, 0), rst.Header);
        await WaitUntilAsync(() => session.ActiveStreamCount == 0, "the stream is gone");
        await session.CloseAsync();
    }

    [Fact]
    public async Task Frames_for_closed_or_unknown_streams_are_dropped()
    {
        var (session, remote, _) = StartClient();
        await remote.SendAsync(YamuxFrameHeader.Data(40, YamuxFrameFlags.None, 3), "abc"u8.ToArray());
        await remote.SendAsync(YamuxFrameHeader.WindowUpdate(40, YamuxFrameFlags.Fin, 7));
        await remote.SendAsync(YamuxFrameHeader.Ping(YamuxFrameFlags.Syn, 1));
        await remote.ReadUntilAsync(h => h.Type == YamuxFrameType.Ping && h.Has(YamuxFrameFlags.Ack)).WithPatience();
        Assert.False(session.Completion.IsCompleted);
        Assert.Equal(0, session.ActiveStreamCount);
        await session.CloseAsync();
        await session.Completion;
    }

    [Property(MaxTest = 60)]
    public async Task<bool> Arbitrary_remote_bytes_end_in_a_clean_close(byte[][] chunks)
    {
        {
            var (session, remote, _) = StartClient();
            var readers = new List<Task>();
            var accepting = Task.Run(async () =>
            {
                while (await session.AcceptStreamAsync() is { } stream)
                {
                    readers.Add(DrainAsync(stream));
                }
            });
            var draining = Task.Run(async () =>
            {
                while (await remote.ReadFrameAsync() is not null)
                {
                }
            });
            foreach (var chunk in chunks)
            {
                await remote.SendRawAsync(chunk);
            }

            await remote.CloseAsync();
            var outcome = await Record.ExceptionAsync(() => session.Completion).WithPatience();
            await accepting.WithPatience();
            await draining.WithPatience();
            await Task.WhenAll(readers).WithPatience();
            await session.CloseAsync();
            return (outcome is null or WireFormatException or IOException) && session.ActiveStreamCount == 0;
        }
    }

    private static async Task DrainAsync(IMuxedStream stream)
    {
        try
        {
            await stream.Input.CopyToAsync(Stream.Null);
        }
        catch (StreamResetException)
        {
        }
    }

    [Property(MaxTest = 100)]
    public async Task<bool> Arbitrary_frame_sequences_end_in_a_clean_close((byte Type, byte Flags, byte StreamId, ushort Length)[] frames)
    {
        // Mostly well-formed headers on a handful of stream ids, so that streams open, carry data, close and reset.
        var bytes = new List<byte>();
        foreach (var (type, flags, streamId, length) in frames)
        {
            var header = new YamuxFrameHeader((YamuxFrameType)(type % 4), (YamuxFrameFlags)(flags % 16), (uint)(streamId % 9), length);
            var encoded = new byte[YamuxFrameHeader.Size];
            header.Write(encoded);
            bytes.AddRange(encoded);
            if (header.Type == YamuxFrameType.Data)
            {
                bytes.AddRange(new byte[length]);
            }
        }

        return await Arbitrary_remote_bytes_end_in_a_clean_close([bytes.ToArray()]);
    }

    [Fact]
    public async Task Failing_sessions_leave_no_unobserved_task_exceptions()
    {
        var unobserved = new List<Exception>();
        // Only tasks the library itself dropped: a task a test dropped has test frames in its async stack.
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            var trace = e.Exception.ToString();
            if (trace.Contains("ToolNet.Protocol.Yamux", StringComparison.Ordinal) && !trace.Contains("ToolNet.Protocol.Tests", StringComparison.Ordinal))
            {
                lock (unobserved)
                {
                    unobserved.Add(e.Exception);
                }
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await RunFailingSessionsAsync();
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.True(unobserved.Count == 0, string.Join("\n----\n", unobserved));
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    private static async Task RunFailingSessionsAsync()
    {
        // Nobody looks at Completion or at the pending pings of these sessions.
        var (broken, brokenRemote, _) = StartClient();
        await brokenRemote.SendRawAsync(Convert.FromHexString("000900000000000000000000"));
        await broken.Completion.ContinueWith(_ => { }, TaskScheduler.Default).WithPatience();

        var (dead, _, _) = StartClient(Options with { KeepAliveInterval = TimeSpan.FromMilliseconds(10), KeepAliveTimeout = TimeSpan.FromMilliseconds(50) });
        await dead.Completion.ContinueWith(_ => { }, TaskScheduler.Default).WithPatience();

        var (cut, cutRemote, _) = StartClient();
        var stream = await cut.OpenStreamAsync();
        var write = stream.Output.WriteAsync(new byte[1024 * 1024]).AsTask();
        await cutRemote.SendRawAsync([0, 0]);
        await cutRemote.CloseAsync();
        await cut.Completion.ContinueWith(_ => { }, TaskScheduler.Default).WithPatience();
        Assert.IsType<StreamResetException>(await Record.ExceptionAsync(() => write).WithPatience());
    }
}
