using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Tests.Tcp;
using ToolNet.Protocol.WebSocket;
using static ToolNet.Protocol.Tests.Tcp.TransportTestKit;
using PipePair = ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.WebSocket;

public class WebSocketTransportTests : TransportConformanceTests
{
    protected override string Suffix => "/ws";

    protected override ITransport CreateTransport(TcpTransportOptions? options = null) =>
        new WebSocketTransport(new WebSocketTransportOptions { Tcp = options ?? TcpTransportOptions.Default });

    protected override int OpenConnections(ITransport transport) => ((WebSocketTransport)transport).OpenConnections;

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001/ws", true)]
    [InlineData("/ip6/::1/tcp/4001/ws", true)]
    [InlineData("/dns4/example.com/tcp/80/ws", true)]
    [InlineData("/dns/example.com/tcp/80/ws/p2p/" + PeerId, true)]
    [InlineData("/ip4/127.0.0.1/tcp/4001", false)]
    [InlineData("/ip4/127.0.0.1/tcp/443/wss", false)]
    [InlineData("/ip4/127.0.0.1/tcp/443/tls/ws", false)]
    [InlineData("/ip4/127.0.0.1/tcp/443/tls/sni/example.com/ws", false)]
    [InlineData("/ip4/127.0.0.1/tcp/4001/ws/p2p/" + PeerId + "/p2p-circuit", false)]
    [InlineData("/ip4/127.0.0.1/udp/4001/ws", false)]
    public void CanDial_takes_plain_ws_addresses_with_an_optional_peer_id(string address, bool expected)
    {
        Assert.Equal(expected, new WebSocketTransport().CanDial(Multiaddr.Parse(address)));
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/0/ws", true)]
    [InlineData("/dns4/localhost/tcp/0/ws", true)]
    [InlineData("/ip4/127.0.0.1/tcp/0", false)]
    [InlineData("/ip4/127.0.0.1/tcp/0/wss", false)]
    [InlineData("/ip4/127.0.0.1/tcp/0/ws/p2p/" + PeerId, false)]
    public void CanListen_takes_plain_ws_addresses(string address, bool expected)
    {
        Assert.Equal(expected, new WebSocketTransport().CanListen(Multiaddr.Parse(address)));
    }

    [Fact]
    public async Task Dialing_wss_is_refused_with_a_message_saying_TLS_is_not_supported()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(
            () => new WebSocketTransport().DialAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/443/wss"), TransportDialOptions.Default).AsTask());
        Assert.Contains("TLS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reset_from_the_remote_fails_input_with_an_IOException()
    {
        await using var session = await RawSession.OpenAsync();
        var (raw, server) = (session.Raw, session.Server);
        await raw.SendAsync(RawWebSocketPeer.Frame(2, [1, 2], masked: true));
        Assert.Equal(new byte[] { 1, 2 }, await PipePair.ReceiveAsync(server.Input, 2));
        raw.Reset();
        var e = await ReadUntilFailureAsync(server.Input);
        Assert.Contains("reset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_TCP_close_without_a_close_frame_is_a_truncation_not_an_end()
    {
        await using var session = await RawSession.OpenAsync();
        var (raw, server) = (session.Raw, session.Server);
        raw.Socket.Shutdown(SocketShutdown.Send);
        await ReadUntilFailureAsync(server.Input);
    }

    [Fact]
    public async Task A_text_message_is_a_protocol_violation()
    {
        await using var session = await RawSession.OpenAsync();
        var (raw, server) = (session.Raw, session.Server);
        await raw.SendAsync(RawWebSocketPeer.Frame(1, "hi"u8.ToArray(), masked: true));
        var e = await ReadUntilFailureAsync(server.Input);
        Assert.Contains("text message", e.Message, StringComparison.Ordinal);
        Assert.False(await raw.ReadToEndAsync());
    }

    [Fact]
    public async Task A_close_frame_with_an_error_status_fails_input()
    {
        await using var session = await RawSession.OpenAsync();
        var (raw, server) = (session.Raw, session.Server);
        await raw.SendAsync(RawWebSocketPeer.Frame(8, [0x03, 0xF3, (byte)'o', (byte)'o', (byte)'p', (byte)'s'], masked: true)); // 1011
        var e = await ReadUntilFailureAsync(server.Input);
        Assert.Contains("1011 oops", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_sent_right_behind_the_handshake_are_not_lost_on_either_side()
    {
        // Server side: the request and the first frame arrive in one segment.
        var transport = new WebSocketTransport();
        await using var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
        using var rawClient = await RawWebSocketPeer.ConnectAsync(listener.ListenAddress);
        var request = Encoding.Latin1.GetBytes(RawWebSocketPeer.UpgradeRequest(WebSocketHandshake.CreateKey()));
        await rawClient.SendAsync([.. request, .. RawWebSocketPeer.Frame(2, "early"u8.ToArray(), masked: true)]);
        await using var server = await listener.AcceptAsync(Guard());
        Assert.Equal("early"u8.ToArray(), await PipePair.ReceiveAsync(server!.Input, 5));

        // Client side: the 101 and the first frame arrive in one segment.
        using var rawServer = new RawWebSocketServer();
        var dialing = transport.DialAsync(rawServer.Address, TransportDialOptions.Default, Guard()).AsTask();
        var (peer, upgrade) = await rawServer.AcceptAsync();
        using var _ = peer;
        await peer.SendAsync([.. Encoding.Latin1.GetBytes(RawWebSocketServer.Accept(upgrade)), .. RawWebSocketPeer.Frame(2, "hello"u8.ToArray(), masked: false)]);
        await using var client = await dialing;
        Assert.Equal("hello"u8.ToArray(), await PipePair.ReceiveAsync(client.Input, 5));

        // And what our dialer sends is masked binary.
        await PipePair.SendAsync(client.Output, [7]);
        Assert.True(upgrade.HasToken("Upgrade", "websocket"));
        await client.Output.CompleteAsync();
    }

    // Keyed by name: test case names travel to the runner, and some of these requests hold control characters.
    private static readonly Dictionary<string, string> RefusedRequests = new()
    {
        ["bad key"] = RawWebSocketPeer.UpgradeRequest("c2hvcnQ="),
        ["missing Upgrade"] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ["missing Host"] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ["plain HTTP"] = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
        ["malformed"] = "GET / HTTP/1.1\r\nHost a\r\n\r\n",
        ["TLS hello"] = "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n",
        ["oversize"] = "GET / HTTP/1.1\r\nX-Filler: " + new string('a', 10 * 1024) + "\r\n\r\n",
    };

    [Theory]
    [InlineData("bad key")]
    [InlineData("missing Upgrade")]
    [InlineData("missing Host")]
    [InlineData("plain HTTP")]
    [InlineData("malformed")]
    [InlineData("TLS hello")]
    [InlineData("oversize")]
    public async Task A_bad_upgrade_request_gets_400_and_a_clean_close_and_the_listener_goes_on(string why)
    {
        await AssertRefusedAsync(RefusedRequests[why], 400, why);
    }

    [Fact]
    public async Task A_request_for_another_version_gets_426_naming_version_13()
    {
        var request = RawWebSocketPeer.UpgradeRequest(WebSocketHandshake.CreateKey()).Replace("Version: 13", "Version: 8", StringComparison.Ordinal);
        var response = await AssertRefusedAsync(request, 426, "version 8");
        Assert.True(response.TryGetSingle("Sec-WebSocket-Version", out var version));
        Assert.Equal("13", version);
    }

    [Fact]
    public async Task A_client_that_does_not_finish_its_handshake_is_dropped_and_holds_up_no_one()
    {
        var transport = new WebSocketTransport(new WebSocketTransportOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(200) });
        await using var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
        using var silent = await RawWebSocketPeer.ConnectAsync(listener.ListenAddress);
        await silent.SendAsync("GET / HTTP/1.1\r\n");

        // A well-behaved client is accepted while the silent one is pending.
        var accepting = listener.AcceptAsync(Guard()).AsTask();
        await using var client = await transport.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard());
        await using var server = await accepting;
        Assert.Equal(client.LocalAddress, server!.RemoteAddress);

        Assert.Null(await silent.ReadResponseAsync());
        await WaitUntilAsync(() => ((WebSocketTransportListener)listener).PendingHandshakes == 0);
    }

    [Fact]
    public async Task A_dial_whose_upgrade_is_never_answered_times_out_naming_the_address()
    {
        using var rawServer = new RawWebSocketServer();
        var options = TransportDialOptions.Default with { Timeout = TimeSpan.FromMilliseconds(200) };
        var dialing = new WebSocketTransport().DialAsync(rawServer.Address, options, Guard()).AsTask();
        var (peer, _) = await rawServer.AcceptAsync();
        using var _ = peer;
        var e = await Assert.ThrowsAsync<TimeoutException>(() => dialing);
        Assert.Contains(rawServer.Address.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "400 Bad Request")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "Sec-WebSocket-Accept")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n\r\n", "not valid HTTP")]
    [InlineData("", "closed during the WebSocket handshake")]
    public async Task A_dial_to_a_server_that_does_not_accept_the_upgrade_fails_naming_the_address(string answer, string expected)
    {
        using var rawServer = new RawWebSocketServer();
        var dialing = new WebSocketTransport().DialAsync(rawServer.Address, TransportDialOptions.Default, Guard()).AsTask();
        var (peer, _) = await rawServer.AcceptAsync();
        using (peer)
        {
            await peer.SendAsync(answer);
            peer.Socket.Shutdown(SocketShutdown.Send);
            var e = await Assert.ThrowsAsync<IOException>(() => dialing);
            Assert.Contains(rawServer.Address.ToString(), e.Message, StringComparison.Ordinal);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ClientWebSocket_interoperates_with_our_listener()
    {
        await using var listener = await new WebSocketTransport().ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
        Assert.True(listener.ListenAddress.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out _));
        using var client = new ClientWebSocket();
        client.Options.SetRequestHeader("Origin", "http://localhost:8080");
        client.Options.DangerousDeflateOptions = new WebSocketDeflateOptions(); // offers permessage-deflate: not taken
        var accepting = listener.AcceptAsync(Guard()).AsTask();
        await client.ConnectAsync(new Uri($"ws://127.0.0.1:{endPoint.Port}/"), Guard());
        await using var server = await accepting;
        Assert.NotNull(server);

        // Client messages, whatever their boundaries, arrive as one byte stream.
        await client.SendAsync("multi"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: false, Guard());
        await client.SendAsync("stream-"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, Guard());
        await client.SendAsync("select"u8.ToArray(), WebSocketMessageType.Binary, endOfMessage: true, Guard());
        Assert.Equal("multistream-select"u8.ToArray(), await PipePair.ReceiveAsync(server.Input, 18));

        // Each flush of ours arrives as one binary message; 100 KiB is split at the 64 KiB message size.
        await PipePair.SendAsync(server.Output, "hello"u8.ToArray());
        var message = await ReceiveMessageAsync(client);
        Assert.Equal((WebSocketMessageType.Binary, "hello"), (message.Type, Encoding.ASCII.GetString(message.Payload)));
        var large = new byte[100 * 1024];
        Random.Shared.NextBytes(large);
        await PipePair.SendAsync(server.Output, large);
        var first = await ReceiveMessageAsync(client);
        var second = await ReceiveMessageAsync(client);
        Assert.Equal(64 * 1024, first.Payload.Length);
        Assert.Equal(large, first.Payload.Concat(second.Payload).ToArray());

        // The client half-closes: our input ends, we can still send, then we close too.
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", Guard());
        Assert.Empty(await PipePair.ReceiveAllAsync(server.Input));
        await PipePair.SendAsync(server.Output, "bye"u8.ToArray());
        Assert.Equal("bye", Encoding.ASCII.GetString((await ReceiveMessageAsync(client)).Payload));
        await server.Output.CompleteAsync();
        var close = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Close, close.Type);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal(WebSocketState.Closed, client.State);
        await ((PipeConnection)server).Completion.WaitAsync(Guard());
    }

    [Fact]
    public async Task Disposing_the_listener_ends_accepts_and_drops_pending_handshakes()
    {
        var listener = await new WebSocketTransport().ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
        var pending = listener.AcceptAsync(Guard()).AsTask();
        using var silent = await RawWebSocketPeer.ConnectAsync(listener.ListenAddress);
        await WaitUntilAsync(() => ((WebSocketTransportListener)listener).PendingHandshakes == 1);
        await listener.DisposeAsync();
        Assert.Null(await pending);
        Assert.Null(await listener.AcceptAsync(Guard()));
        Assert.Null(await silent.ReadResponseAsync());
        Assert.Equal(0, ((WebSocketTransportListener)listener).PendingHandshakes);
    }

    /// <summary>A listener of ours and a raw client it accepted after a valid upgrade.</summary>
    private sealed record RawSession(ITransportListener Listener, RawWebSocketPeer Raw, ITransportConnection Server) : IAsyncDisposable
    {
        public static async Task<RawSession> OpenAsync()
        {
            var listener = await new WebSocketTransport().ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
            var raw = await RawWebSocketPeer.ConnectAsync(listener.ListenAddress);
            await raw.UpgradeAsync();
            return new RawSession(listener, raw, (await listener.AcceptAsync(Guard()))!);
        }

        public async ValueTask DisposeAsync()
        {
            Raw.Dispose();
            await Server.DisposeAsync();
            await Listener.DisposeAsync();
        }
    }

    private static async Task<HttpResponseHead> AssertRefusedAsync(string request, int status, string why)
    {
        var transport = new WebSocketTransport();
        await using var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"), Guard());
        using var raw = await RawWebSocketPeer.ConnectAsync(listener.ListenAddress);
        await raw.SendAsync(request);
        var response = await raw.ReadResponseAsync();
        Assert.True(response is not null, why);
        Assert.Equal(status, response.StatusCode);
        Assert.True(response.HasToken("Connection", "close"), why);

        // As an HTTP client does after "Connection: close": stop sending; the server then closes without a reset.
        raw.Socket.Shutdown(SocketShutdown.Send);
        Assert.True(await raw.ReadToEndAsync(), $"{why}: the refusal ended in a reset");

        // The listener goes on: a good client is accepted.
        var accepting = listener.AcceptAsync(Guard()).AsTask();
        await using var client = await transport.DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard());
        await using var server = await accepting;
        Assert.Equal(client.LocalAddress, server!.RemoteAddress);
        await WaitUntilAsync(() => ((WebSocketTransportListener)listener).PendingHandshakes == 0);
        return response;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveMessageAsync(ClientWebSocket client)
    {
        var payload = new List<byte>();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await client.ReceiveAsync(buffer, Guard());
            payload.AddRange(buffer.AsSpan(0, result.Count));
            if (result.EndOfMessage)
            {
                return (result.MessageType, [.. payload]);
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10, Guard());
        }
    }
}
