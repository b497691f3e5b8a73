using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;
using static ToolNet.Protocol.Tests.Tcp.TransportTestKit;
using PipePair = ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.Tcp;

public class TcpTransportTests
{
    private const string PeerId = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001", true)]
    [InlineData("/ip6/::1/tcp/4001", true)]
    [InlineData("/ip6zone/3/ip6/fe80::1/tcp/4001", true)]
    [InlineData("/dns4/example.com/tcp/4001", true)]
    [InlineData("/dns6/example.com/tcp/4001", true)]
    [InlineData("/dns/example.com/tcp/4001", true)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/p2p/" + PeerId, true)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/ws", false)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/wss", false)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/tls/ws", false)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/p2p/" + PeerId + "/p2p-circuit", false)]
    [InlineData("/ip4/127.0.0.1/udp/4001/quic-v1", false)]
    [InlineData("/ip4/127.0.0.1/udp/4001", false)]
    [InlineData("/dnsaddr/example.com", false)]
    [InlineData("/ip4/127.0.0.1", false)]
    [InlineData("/p2p/" + PeerId, false)]
    public void CanDial_takes_plain_tcp_addresses_with_an_optional_peer_id(string address, bool expected)
    {
        Assert.Equal(expected, new TcpTransport().CanDial(Multiaddr.Parse(address)));
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/0", true)]
    [InlineData("/ip6/::/tcp/4001", true)]
    [InlineData("/dns4/localhost/tcp/0", true)]
    [InlineData("/ip4/127.0.0.1/tcp/0/p2p/" + PeerId, false)]
    [InlineData("/ip4/127.0.0.1/tcp/0/ws", false)]
    [InlineData("/ip4/127.0.0.1/udp/0", false)]
    public void CanListen_takes_plain_tcp_addresses(string address, bool expected)
    {
        Assert.Equal(expected, new TcpTransport().CanListen(Multiaddr.Parse(address)));
    }

    [Fact]
    public async Task Dialing_or_listening_on_a_foreign_address_is_refused_with_an_argument_error()
    {
        var transport = new TcpTransport();
        await Assert.ThrowsAsync<ArgumentException>(() => transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws")).AsTask());
        var e = await Assert.ThrowsAsync<ArgumentException>(
            () => transport.DialAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/1/ws"), TransportDialOptions.Default).AsTask());
        Assert.Contains("/ip4/127.0.0.1/tcp/1/ws", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_zero_is_resolved_and_both_ends_report_matching_addresses()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        var listen = pair.Listener.ListenAddress;
        Assert.True(listen.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out var rest));
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        Assert.NotEqual(0, endPoint.Port);
        Assert.True(rest.IsEmpty);

        Assert.Equal(listen, pair.Client.RemoteAddress);
        Assert.Equal(listen, pair.Server.LocalAddress);
        Assert.Equal(pair.Client.LocalAddress, pair.Server.RemoteAddress);
        Assert.Equal(Direction.Outbound, pair.Client.Direction);
        Assert.Equal(Direction.Inbound, pair.Server.Direction);
        await AssertEchoesAsync(pair);
    }

    [Ipv6Fact]
    public async Task Dials_and_listens_on_the_ipv6_loopback()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip6/::1/tcp/0");
        Assert.StartsWith("/ip6/::1/tcp/", pair.Listener.ListenAddress.ToString(), StringComparison.Ordinal);
        Assert.Equal(pair.Listener.ListenAddress, pair.Client.RemoteAddress);
        await AssertEchoesAsync(pair);
    }

    [Fact]
    public async Task Dials_a_dns4_name_and_listens_on_one_with_the_resolved_address_reported()
    {
        var transport = new TcpTransport();
        await using var listener = await transport.ListenAsync(Multiaddr.Parse("/dns4/localhost/tcp/0"), Guard());
        Assert.True(listener.ListenAddress.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out _));
        Assert.Equal(IPAddress.Loopback, endPoint.Address);

        foreach (var name in new[] { "dns4", "dns" })
        {
            var accepting = listener.AcceptAsync(Guard()).AsTask();
            var address = Multiaddr.Parse($"/{name}/localhost/tcp/{endPoint.Port}/p2p/{PeerId}");
            await using var client = await transport.DialAsync(address, TransportDialOptions.Default, Guard());
            await using var server = await accepting;
            Assert.NotNull(server);
            Assert.Equal(listener.ListenAddress, client.RemoteAddress);
            await AssertEchoesAsync(new ConnectedPair(listener, client, server));
        }
    }

    [Fact]
    public async Task An_unresolvable_name_fails_the_dial_with_the_address_in_the_message()
    {
        var address = Multiaddr.Parse("/dns4/name-that-does-not-resolve.invalid/tcp/4001");
        var e = await Assert.ThrowsAsync<IOException>(() => new TcpTransport().DialAsync(address, TransportDialOptions.Default, Guard()).AsTask());
        Assert.Contains(address.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transfers_64_MiB_each_way_concurrently_intact()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        await AssertTransfersConcurrentlyAsync(pair, 64L << 20);
    }

    [Fact]
    public async Task Half_close_by_the_dialer_first_lets_the_listener_answer_afterwards()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        await AssertHalfCloseAsync(pair.Client, pair.Server);
    }

    [Fact]
    public async Task Half_close_by_the_listener_first_lets_the_dialer_answer_afterwards()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        await AssertHalfCloseAsync(pair.Server, pair.Client);
    }

    [Fact]
    public async Task Abort_resets_the_remote_and_fails_both_local_pipes()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        await AssertAbortAsync(pair);
    }

    [Fact]
    public async Task A_reset_from_the_remote_fails_input_with_an_IOException_and_then_output()
    {
        var transport = new TcpTransport();
        await using var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        Assert.True(listener.ListenAddress.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out _));
        var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(endPoint, Guard());
        await using var server = await listener.AcceptAsync(Guard());
        Assert.NotNull(server);

        await raw.SendAsync("hello"u8.ToArray());
        Assert.Equal("hello"u8.ToArray(), await PipePair.ReceiveAsync(server.Input, 5));
        raw.LingerState = new LingerOption(true, 0);
        raw.Dispose();

        var e = await ReadUntilFailureAsync(server.Input);
        Assert.Contains("reset", e.Message, StringComparison.Ordinal);
        await ((PipeConnection)server).Completion.WaitAsync(Guard());
        await Assert.ThrowsAsync<IOException>(() => server.Output.WriteAsync(new byte[1]).AsTask());
    }

    [Fact]
    public async Task Dialing_a_closed_port_fails_with_an_IOException_naming_the_address()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var address = Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{port}");
        var e = await Assert.ThrowsAsync<IOException>(() => new TcpTransport().DialAsync(address, TransportDialOptions.Default, Guard()).AsTask());
        Assert.Contains(address.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task A_dial_that_does_not_connect_in_time_fails_with_a_TimeoutException_naming_the_address()
    {
        await using var full = await FullListener.CreateAsync();
        var options = TransportDialOptions.Default with { Timeout = TimeSpan.FromMilliseconds(100) };
        var e = await Assert.ThrowsAsync<TimeoutException>(() => new TcpTransport().DialAsync(full.Address, options, Guard()).AsTask());
        Assert.Contains(full.Address.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dial_cancelled_by_the_caller_throws_OperationCanceledException()
    {
        await using var full = await FullListener.CreateAsync();
        using var cancellation = new CancellationTokenSource();
        var options = TransportDialOptions.Default with { Timeout = Timeout.InfiniteTimeSpan };
        var dial = new TcpTransport().DialAsync(full.Address, options, cancellation.Token).AsTask();
        Assert.False(dial.IsCompleted);
        await cancellation.CancelAsync();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dial);
        Assert.Equal(cancellation.Token, e.CancellationToken);
    }

    [Fact]
    public async Task Listeners_can_dial_from_their_listen_port_while_listening()
    {
        var transport = new TcpTransport();
        await using var first = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        await using var second = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        await using var third = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());

        // first's port -> second, second's port -> third: each remote sees the dialer's listen port as the source.
        foreach (var (from, to) in new[] { (first, second), (second, third) })
        {
            var accepting = to.AcceptAsync(Guard()).AsTask();
            var options = TransportDialOptions.Default with { LocalAddress = from.ListenAddress };
            await using var client = await transport.DialAsync(to.ListenAddress, options, Guard());
            await using var server = await accepting;
            Assert.NotNull(server);
            Assert.Equal(from.ListenAddress, client.LocalAddress);
            Assert.Equal(from.ListenAddress, server.RemoteAddress);
            await AssertEchoesAsync(new ConnectedPair(to, client, server));
        }

        // Still listening: a plain dial to the first listener is accepted.
        var acceptingFirst = first.AcceptAsync(Guard()).AsTask();
        await using var plain = await transport.DialAsync(first.ListenAddress, TransportDialOptions.Default, Guard());
        await using var accepted = await acceptingFirst;
        Assert.Equal(plain.LocalAddress, accepted!.RemoteAddress);
    }

    [Fact]
    public async Task Without_SO_REUSEPORT_a_dial_cannot_leave_from_a_listening_port()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() || OperatingSystem.IsWindows());
        if (OperatingSystem.IsWindows())
        {
            return; // Windows' SO_REUSEADDR allows it; the claim is about Unix.
        }

        var transport = new TcpTransport(new TcpTransportOptions { ReusePort = false });
        await using var first = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        await using var second = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        var options = TransportDialOptions.Default with { LocalAddress = first.ListenAddress };
        var e = await Assert.ThrowsAsync<IOException>(() => transport.DialAsync(second.ListenAddress, options, Guard()).AsTask());
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Five_hundred_connections_opened_and_closed_leave_no_socket_open()
    {
        var dialer = new TcpTransport();
        var accepter = new TcpTransport();
        await using var listener = await accepter.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        var pairs = new List<(ITransportConnection Client, ITransportConnection Server)>();
        for (var i = 0; i < 500; i++)
        {
            var accepting = listener.AcceptAsync(Guard()).AsTask();
            var client = await dialer.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard());
            pairs.Add((client, (await accepting)!));
        }

        Assert.Equal(500, dialer.OpenConnections);
        Assert.Equal(500, accepter.OpenConnections);

        // A third close gracefully in each direction first, a third abort, a third are just disposed.
        await Task.WhenAll(pairs.Select(async (pair, i) =>
        {
            switch (i % 3)
            {
                case 0:
                    var (first, second) = i % 2 == 0 ? (pair.Client, pair.Server) : (pair.Server, pair.Client);
                    await PipePair.SendAsync(first.Output, [(byte)i]);
                    await first.Output.CompleteAsync();
                    Assert.Equal(new[] { (byte)i }, await PipePair.ReceiveAllAsync(second.Input));
                    await second.Output.CompleteAsync();
                    Assert.Empty(await PipePair.ReceiveAllAsync(first.Input));
                    break;
                case 1:
                    pair.Client.Abort();
                    await ReadUntilFailureAsync(pair.Server.Input);
                    break;
            }

            await pair.Client.DisposeAsync();
            await pair.Server.DisposeAsync();
        }));

        Assert.Equal(0, dialer.OpenConnections);
        Assert.Equal(0, accepter.OpenConnections);
    }

    [Fact]
    public async Task A_reader_that_does_not_read_pauses_the_socket_and_then_the_writer()
    {
        const long receiveLimit = 64 * 1024;
        var options = new TcpTransportOptions { MaxReceiveBufferSize = receiveLimit };
        await using var pair = await ConnectAsync(new TcpTransport(options), "/ip4/127.0.0.1/tcp/0");
        var writer = new StallingWriter(pair.Client.Output, total: 128L << 20, seed: 7);
        var writing = writer.RunAsync();

        // Wait until the receiver holds at least its limit and the writer's flush waits: nothing reads, so nothing
        // moves any more. The receive loop then stopped at the limit (give or take one receive), the kernel buffers
        // are full, and the writer's process holds at most its own pipe's limit.
        long buffered;
        while (true)
        {
            buffered = PeekBuffered(pair.Server.Input);
            Assert.True(buffered <= receiveLimit + options.MinimumReceiveSize, $"the receiver buffered {buffered} bytes");
            if (buffered >= receiveLimit && writer.IsWaitingForFlush)
            {
                break;
            }

            await Task.Delay(10, Guard());
        }

        Assert.False(writing.IsCompleted);
        Assert.True(writer.Flushed < 128L << 20);

        var reading = ReadToEndAsync(pair.Server.Input);
        var sent = await writing;
        var received = await reading;
        Assert.Equal(128L << 20, received.Length);
        Assert.Equal(sent, received.Hash);
    }

    [Fact]
    public async Task Disposing_after_completing_output_delivers_it_all_and_then_the_end()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        var reading = ReadToEndAsync(pair.Server.Input);
        var sent = await WriteRandomAsync(pair.Client.Output, 4 << 20, seed: 3);
        await pair.Client.DisposeAsync();
        var received = await reading;
        Assert.Equal(4 << 20, received.Length);
        Assert.Equal(sent, received.Hash);
    }

    [Fact]
    public async Task Disposing_without_completing_output_aborts()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        await PipePair.SendAsync(pair.Client.Output, [1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, await PipePair.ReceiveAsync(pair.Server.Input, 3));
        await pair.Client.DisposeAsync();
        await ReadUntilFailureAsync(pair.Server.Input);
    }

    [Fact]
    public async Task Completing_output_with_an_exception_aborts_the_connection()
    {
        await using var pair = await ConnectAsync(new TcpTransport(), "/ip4/127.0.0.1/tcp/0");
        var reason = new InvalidOperationException("protocol violation");
        await pair.Client.Output.CompleteAsync(reason);
        await ReadUntilFailureAsync(pair.Server.Input);
        var local = await ReadUntilFailureAsync(pair.Client.Input);
        Assert.Same(reason, local.InnerException);
    }

    [Fact]
    public async Task Disposing_a_listener_ends_pending_and_later_accepts_with_null()
    {
        var transport = new TcpTransport();
        var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Guard());
        var pending = listener.AcceptAsync(Guard()).AsTask();
        await listener.DisposeAsync();
        Assert.Null(await pending);
        Assert.Null(await listener.AcceptAsync(Guard()));
        await Assert.ThrowsAsync<IOException>(() => transport.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard()).AsTask());
    }

    /// <summary>Sends a message each way and checks it arrives.</summary>
    internal static async Task AssertEchoesAsync(ConnectedPair pair)
    {
        await PipePair.SendAsync(pair.Client.Output, "ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await PipePair.ReceiveAsync(pair.Server.Input, 4));
        await PipePair.SendAsync(pair.Server.Output, "pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await PipePair.ReceiveAsync(pair.Client.Input, 4));
    }

    /// <summary>Both ends write <paramref name="length"/> bytes and read the other's at the same time.</summary>
    internal static async Task AssertTransfersConcurrentlyAsync(ConnectedPair pair, long length)
    {
        var clientReads = ReadToEndAsync(pair.Client.Input);
        var serverReads = ReadToEndAsync(pair.Server.Input);
        var clientWrites = WriteRandomAsync(pair.Client.Output, length, seed: 1);
        var serverWrites = WriteRandomAsync(pair.Server.Output, length, seed: 2);
        await Task.WhenAll(clientReads, serverReads, clientWrites, serverWrites);
        Assert.Equal(length, (await serverReads).Length);
        Assert.Equal(await clientWrites, (await serverReads).Hash);
        Assert.Equal(length, (await clientReads).Length);
        Assert.Equal(await serverWrites, (await clientReads).Hash);
        await ((PipeConnection)pair.Client).Completion.WaitAsync(Guard());
        await ((PipeConnection)pair.Server).Completion.WaitAsync(Guard());
    }

    /// <summary><paramref name="first"/> sends and half-closes; <paramref name="second"/> reads to the end, then
    /// answers and half-closes; both connections then close by themselves.</summary>
    internal static async Task AssertHalfCloseAsync(ITransportConnection first, ITransportConnection second)
    {
        await PipePair.SendAsync(first.Output, Encoding.ASCII.GetBytes("request"));
        await first.Output.CompleteAsync();
        Assert.Equal("request", Encoding.ASCII.GetString(await PipePair.ReceiveAllAsync(second.Input)));

        // Half-closed: the other direction still carries data, several flushes of it.
        for (var i = 0; i < 3; i++)
        {
            await PipePair.SendAsync(second.Output, Encoding.ASCII.GetBytes($"answer {i};"));
        }

        await second.Output.CompleteAsync();
        Assert.Equal("answer 0;answer 1;answer 2;", Encoding.ASCII.GetString(await PipePair.ReceiveAllAsync(first.Input)));
        await ((PipeConnection)first).Completion.WaitAsync(Guard());
        await ((PipeConnection)second).Completion.WaitAsync(Guard());
    }

    /// <summary>The client aborts: the server's input fails (reset), the client's own pipes fail too.</summary>
    internal static async Task AssertAbortAsync(ConnectedPair pair)
    {
        await PipePair.SendAsync(pair.Client.Output, [1]);
        Assert.Equal(new byte[] { 1 }, await PipePair.ReceiveAsync(pair.Server.Input, 1));
        var reason = new InvalidOperationException("giving up");
        pair.Client.Abort(reason);

        await ReadUntilFailureAsync(pair.Server.Input);
        var local = await ReadUntilFailureAsync(pair.Client.Input);
        Assert.Same(reason, local.InnerException);
        await ((PipeConnection)pair.Client).Completion.WaitAsync(Guard());
        var write = await Assert.ThrowsAsync<IOException>(() => pair.Client.Output.WriteAsync(new byte[1]).AsTask());
        Assert.Same(reason, write.InnerException);
        await ((PipeConnection)pair.Server).Completion.WaitAsync(Guard());
    }

    /// <summary>How many bytes the reader holds, without consuming them.</summary>
    private static long PeekBuffered(PipeReader reader)
    {
        if (!reader.TryRead(out var result))
        {
            return 0;
        }

        var length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.Start);
        return length;
    }

    /// <summary>Writes pseudo-random bytes in 64 KiB flushes and says when a flush is waiting.</summary>
    private sealed class StallingWriter(PipeWriter writer, long total, int seed)
    {
        private volatile bool _waiting;
        private long _flushed;

        public bool IsWaitingForFlush => _waiting;

        public long Flushed => Interlocked.Read(ref _flushed);

        public async Task<byte[]> RunAsync()
        {
            var random = new Random(seed);
            using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var chunk = new byte[64 * 1024];
            for (long written = 0; written < total; written += chunk.Length)
            {
                random.NextBytes(chunk);
                hash.AppendData(chunk);
                writer.Write(chunk);
                var flush = writer.FlushAsync(Guard());
                if (!flush.IsCompleted)
                {
                    _waiting = true;
                    await flush;
                    _waiting = false;
                }

                Interlocked.Add(ref _flushed, chunk.Length);
            }

            await writer.CompleteAsync();
            return hash.GetHashAndReset();
        }
    }

    /// <summary>A raw listening socket whose accept queue is full, so a further connect waits unanswered.</summary>
    private sealed class FullListener : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _fillers = [];

        private FullListener(Socket listener)
        {
            _listener = listener;
            Address = Multiaddr.FromIPEndPoint((IPEndPoint)listener.LocalEndPoint!);
        }

        public Multiaddr Address { get; }

        public static async Task<FullListener> CreateAsync()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(0);
            var full = new FullListener(socket);

            // Fill the accept queue until a connect stays unanswered (Linux drops SYNs to a full queue).
            for (var i = 0; i < 16; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                full._fillers.Add(filler);
                var connect = filler.ConnectAsync(socket.LocalEndPoint!, Guard()).AsTask();
                if (await Task.WhenAny(connect, Task.Delay(TimeSpan.FromSeconds(1))) != connect)
                {
                    return full;
                }
            }

            await full.DisposeAsync();
            throw new InvalidOperationException("could not fill the accept queue of a listening socket");
        }

        public ValueTask DisposeAsync()
        {
            foreach (var filler in _fillers)
            {
                filler.Dispose();
            }

            _listener.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
