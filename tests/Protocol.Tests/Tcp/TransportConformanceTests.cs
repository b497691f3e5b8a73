using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;
using static ToolNet.Protocol.Tests.Tcp.TransportTestKit;
using PipePair = ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.Tcp;

/// <summary>
/// What every byte-stream transport over TCP must do, run once per transport by a subclass: addresses, IPv4, IPv6
/// and DNS, bulk transfer, half-close in both orders, abort, dispose, backpressure, and no leaks.
/// </summary>
public abstract class TransportConformanceTests
{
    protected const string PeerId = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

    /// <summary>What follows <c>/tcp/P</c> in this transport's addresses: empty or <c>/ws</c>.</summary>
    protected abstract string Suffix { get; }

    /// <summary>A transport of the kind under test with <paramref name="options"/> for its sockets and pipes.</summary>
    protected abstract ITransport CreateTransport(TcpTransportOptions? options = null);

    /// <summary>The transport's count of connections whose socket is still open.</summary>
    protected abstract int OpenConnections(ITransport transport);

    [Fact]
    public async Task Port_zero_is_resolved_and_both_ends_report_matching_addresses()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        var listen = pair.Listener.ListenAddress;
        Assert.True(listen.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out var rest));
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        Assert.NotEqual(0, endPoint.Port);
        Assert.Equal(Suffix, rest.ToString());

        Assert.Equal(listen, pair.Client.RemoteAddress);
        Assert.Equal(listen, pair.Server.LocalAddress);
        Assert.Equal(pair.Client.LocalAddress, pair.Server.RemoteAddress);
        Assert.EndsWith(Suffix, pair.Client.LocalAddress.ToString(), StringComparison.Ordinal);
        Assert.Equal(Direction.Outbound, pair.Client.Direction);
        Assert.Equal(Direction.Inbound, pair.Server.Direction);
        await AssertEchoesAsync(pair);
    }

    [Ipv6Fact]
    public async Task Dials_and_listens_on_the_ipv6_loopback()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip6/::1/tcp/0{Suffix}");
        Assert.Matches($"^/ip6/::1/tcp/[1-9][0-9]*{Suffix}$", pair.Listener.ListenAddress.ToString());
        Assert.Equal(pair.Listener.ListenAddress, pair.Client.RemoteAddress);
        await AssertEchoesAsync(pair);
    }

    [Fact]
    public async Task Listens_on_a_dns4_name_reporting_the_resolved_address_and_is_dialled_by_name()
    {
        var transport = CreateTransport();
        await using var listener = await transport.ListenAsync(Multiaddr.Parse($"/dns4/localhost/tcp/0{Suffix}"), Guard());
        Assert.True(listener.ListenAddress.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out _));
        Assert.Equal(IPAddress.Loopback, endPoint.Address);
        foreach (var name in new[] { "dns4", "dns" })
        {
            var accepting = listener.AcceptAsync(Guard()).AsTask();
            var address = Multiaddr.Parse($"/{name}/localhost/tcp/{endPoint.Port}{Suffix}/p2p/{PeerId}");
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
        var address = Multiaddr.Parse($"/dns4/name-that-does-not-resolve.invalid/tcp/4001{Suffix}");
        var e = await Assert.ThrowsAsync<IOException>(() => CreateTransport().DialAsync(address, TransportDialOptions.Default, Guard()).AsTask());
        Assert.Contains(address.ToString(), e.Message, StringComparison.Ordinal);
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

        var address = Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{port}{Suffix}");
        var e = await Assert.ThrowsAsync<IOException>(() => CreateTransport().DialAsync(address, TransportDialOptions.Default, Guard()).AsTask());
        Assert.Contains(address.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Transfers_64_MiB_each_way_concurrently_intact()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        var clientReads = ReadToEndAsync(pair.Client.Input);
        var serverReads = ReadToEndAsync(pair.Server.Input);
        var clientWrites = WriteRandomAsync(pair.Client.Output, 64L << 20, seed: 1);
        var serverWrites = WriteRandomAsync(pair.Server.Output, 64L << 20, seed: 2);
        await Task.WhenAll(clientReads, serverReads, clientWrites, serverWrites);
        Assert.Equal(64L << 20, (await serverReads).Length);
        Assert.Equal(await clientWrites, (await serverReads).Hash);
        Assert.Equal(64L << 20, (await clientReads).Length);
        Assert.Equal(await serverWrites, (await clientReads).Hash);
        await Completion(pair.Client);
        await Completion(pair.Server);
    }

    [Fact]
    public async Task Half_close_by_the_dialer_first_lets_the_listener_answer_afterwards()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        await AssertHalfCloseAsync(pair.Client, pair.Server);
    }

    [Fact]
    public async Task Half_close_by_the_listener_first_lets_the_dialer_answer_afterwards()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        await AssertHalfCloseAsync(pair.Server, pair.Client);
    }

    [Fact]
    public async Task Abort_resets_the_remote_and_fails_both_local_pipes()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        await PipePair.SendAsync(pair.Client.Output, [1]);
        Assert.Equal(new byte[] { 1 }, await PipePair.ReceiveAsync(pair.Server.Input, 1));
        var reason = new InvalidOperationException("giving up");
        pair.Client.Abort(reason);

        var remote = await ReadUntilFailureAsync(pair.Server.Input);
        Assert.Contains("reset", remote.Message, StringComparison.Ordinal);
        var local = await ReadUntilFailureAsync(pair.Client.Input);
        Assert.Same(reason, local.InnerException);
        await Completion(pair.Client);
        var write = await Assert.ThrowsAsync<IOException>(() => pair.Client.Output.WriteAsync(new byte[1]).AsTask());
        Assert.Same(reason, write.InnerException);
        await Completion(pair.Server);
    }

    [Fact]
    public async Task Disposing_after_completing_output_delivers_it_all_and_then_the_end()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
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
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        await PipePair.SendAsync(pair.Client.Output, [1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, await PipePair.ReceiveAsync(pair.Server.Input, 3));
        await pair.Client.DisposeAsync();
        await ReadUntilFailureAsync(pair.Server.Input);
    }

    [Fact]
    public async Task Completing_output_with_an_exception_aborts_the_connection()
    {
        await using var pair = await ConnectAsync(CreateTransport(), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        var reason = new InvalidOperationException("protocol violation");
        await pair.Client.Output.CompleteAsync(reason);
        await ReadUntilFailureAsync(pair.Server.Input);
        var local = await ReadUntilFailureAsync(pair.Client.Input);
        Assert.Same(reason, local.InnerException);
    }

    [Fact]
    public async Task Disposing_a_listener_ends_pending_and_later_accepts_with_null()
    {
        var transport = CreateTransport();
        var listener = await transport.ListenAsync(Multiaddr.Parse($"/ip4/127.0.0.1/tcp/0{Suffix}"), Guard());
        var pending = listener.AcceptAsync(Guard()).AsTask();
        await listener.DisposeAsync();
        Assert.Null(await pending);
        Assert.Null(await listener.AcceptAsync(Guard()));
        await Assert.ThrowsAsync<IOException>(() => transport.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard()).AsTask());
    }

    [Fact]
    public async Task Three_hundred_connections_opened_and_closed_leave_no_socket_open()
    {
        var dialer = CreateTransport();
        var accepter = CreateTransport();
        await using var listener = await accepter.ListenAsync(Multiaddr.Parse($"/ip4/127.0.0.1/tcp/0{Suffix}"), Guard());
        var pairs = new List<(ITransportConnection Client, ITransportConnection Server)>();
        for (var i = 0; i < 300; i++)
        {
            var accepting = listener.AcceptAsync(Guard()).AsTask();
            var client = await dialer.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard());
            pairs.Add((client, (await accepting)!));
        }

        Assert.Equal(300, OpenConnections(dialer));
        Assert.Equal(300, OpenConnections(accepter));

        // A third close gracefully (each side first in turn), a third abort, a third are just disposed.
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

        Assert.Equal(0, OpenConnections(dialer));
        Assert.Equal(0, OpenConnections(accepter));
    }

    [Fact]
    public async Task A_reader_that_does_not_read_pauses_the_socket_and_then_the_writer()
    {
        const long receiveLimit = 64 * 1024;
        var options = new TcpTransportOptions { MaxReceiveBufferSize = receiveLimit };
        await using var pair = await ConnectAsync(CreateTransport(options), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        var writer = new StallingWriter(pair.Client.Output, total: 128L << 20, seed: 7);
        var writing = writer.RunAsync();

        // Wait until the receiver holds at least its limit and the writer's flush waits: nothing reads, so nothing
        // moves any more. The receive loop stopped at the limit (give or take one receive, which grows up to MaximumReceiveSize), the kernel buffers are
        // full, and the writer's process holds at most its own pipe's limit.
        while (true)
        {
            var buffered = PeekBuffered(pair.Server.Input);
            Assert.True(buffered <= receiveLimit + options.MaximumReceiveSize, $"the receiver buffered {buffered} bytes");
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

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 2)]
    public async Task An_idle_connection_holds_a_receive_buffer_only_when_not_waiting_for_data_first(bool waitForData, int heldWhenIdle)
    {
        var pool = new CountingMemoryPool();
        var options = new TcpTransportOptions { MemoryPool = pool, WaitForDataBeforeAllocatingBuffer = waitForData };
        await using var pair = await ConnectAsync(CreateTransport(options), $"/ip4/127.0.0.1/tcp/0{Suffix}");
        await AssertEchoesAsync(pair);

        // Once everything sent was read, each end's receive loop waits for more: with a zero-byte receive it holds
        // nothing, otherwise the buffer it receives into.
        while (pool.Outstanding != heldWhenIdle)
        {
            await Task.Delay(10, Guard());
        }

        Assert.True(pool.Rented >= 2);
    }

    /// <summary>Waits until the connection has closed its transport and both its loops have ended.</summary>
    protected static async Task Completion(ITransportConnection connection) =>
        await ((PipeConnection)connection).Completion.WaitAsync(Guard());

    /// <summary>Sends a message each way and checks it arrives.</summary>
    private protected static async Task AssertEchoesAsync(ConnectedPair pair)
    {
        await PipePair.SendAsync(pair.Client.Output, "ping"u8.ToArray());
        Assert.Equal("ping"u8.ToArray(), await PipePair.ReceiveAsync(pair.Server.Input, 4));
        await PipePair.SendAsync(pair.Server.Output, "pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await PipePair.ReceiveAsync(pair.Client.Input, 4));
    }

    /// <summary><paramref name="first"/> sends and half-closes; <paramref name="second"/> reads to the end, then
    /// answers in several flushes and half-closes; both connections then close by themselves.</summary>
    private static async Task AssertHalfCloseAsync(ITransportConnection first, ITransportConnection second)
    {
        await PipePair.SendAsync(first.Output, Encoding.ASCII.GetBytes("request"));
        await first.Output.CompleteAsync();
        Assert.Equal("request", Encoding.ASCII.GetString(await PipePair.ReceiveAllAsync(second.Input)));

        for (var i = 0; i < 3; i++)
        {
            await PipePair.SendAsync(second.Output, Encoding.ASCII.GetBytes($"answer {i};"));
        }

        await second.Output.CompleteAsync();
        Assert.Equal("answer 0;answer 1;answer 2;", Encoding.ASCII.GetString(await PipePair.ReceiveAllAsync(first.Input)));
        await Completion(first);
        await Completion(second);
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

    /// <summary>A memory pool that counts the buffers rented and not yet returned.</summary>
    private sealed class CountingMemoryPool : MemoryPool<byte>
    {
        private int _outstanding;
        private int _rented;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public int Rented => Volatile.Read(ref _rented);

        public override int MaxBufferSize => 4096;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _rented);
            Interlocked.Increment(ref _outstanding);
            return new Owner(this, new byte[MaxBufferSize]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Owner(CountingMemoryPool pool, byte[] array) : IMemoryOwner<byte>
        {
            private int _disposed;

            public Memory<byte> Memory => array;

            public void Dispose()
            {
                Assert.Equal(0, Interlocked.Exchange(ref _disposed, 1));
                Interlocked.Decrement(ref pool._outstanding);
            }
        }
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
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
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
}
