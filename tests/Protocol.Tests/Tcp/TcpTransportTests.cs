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

public class TcpTransportTests : TransportConformanceTests
{
    protected override string Suffix => "";

    protected override ITransport CreateTransport(TcpTransportOptions? options = null) => new TcpTransport(options);

    protected override int OpenConnections(ITransport transport) => ((TcpTransport)transport).OpenConnections;

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
