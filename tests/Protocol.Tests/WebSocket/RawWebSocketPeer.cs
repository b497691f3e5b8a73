using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.WebSocket;
using static ToolNet.Protocol.Tests.Tcp.TransportTestKit;

namespace ToolNet.Protocol.Tests.WebSocket;

/// <summary>A hand-driven TCP socket that speaks just enough HTTP and WebSocket framing (RFC 6455 section 5.2) to
/// probe the transport from the other end.</summary>
internal sealed class RawWebSocketPeer(Socket socket) : IDisposable
{
    private readonly List<byte> _received = [];

    public Socket Socket { get; } = socket;

    public static async Task<RawWebSocketPeer> ConnectAsync(Multiaddr address)
    {
        Assert.True(address.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out _));
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, Guard());
        return new RawWebSocketPeer(socket);
    }

    /// <summary>A valid upgrade request for <paramref name="key"/>, as text.</summary>
    public static string UpgradeRequest(string key) =>
        $"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// <summary>One unfragmented frame with a payload under 126 bytes, masked (as a client sends) or not.</summary>
    public static byte[] Frame(byte opcode, byte[] payload, bool masked)
    {
        Assert.True(payload.Length < 126);
        var frame = new List<byte> { (byte)(0x80 | opcode), (byte)((masked ? 0x80 : 0) | payload.Length) };
        byte[] mask = [0x12, 0x34, 0x56, 0x78];
        if (masked)
        {
            frame.AddRange(mask);
        }

        frame.AddRange(payload.Select((b, i) => masked ? (byte)(b ^ mask[i % 4]) : b));
        return [.. frame];
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await Socket.SendAsync(bytes, SocketFlags.None, Guard());

    /// <summary>Sends the upgrade request and checks the 101 answer.</summary>
    public async Task UpgradeAsync()
    {
        var key = WebSocketHandshake.CreateKey();
        await SendAsync(UpgradeRequest(key));
        var response = await ReadResponseAsync();
        Assert.Null(WebSocketHandshake.CheckResponse(response!, key));
    }

    /// <summary>Reads an HTTP response head; null when the connection ends (or is reset) first.</summary>
    public async Task<HttpResponseHead?> ReadResponseAsync()
    {
        while (true)
        {
            var input = new ReadOnlySequence<byte>(_received.ToArray());
            if (HttpHeadCodec.TryReadResponse(ref input, out var head))
            {
                _received.RemoveRange(0, _received.Count - (int)input.Length);
                return head;
            }

            try
            {
                if (!await ReceiveMoreAsync())
                {
                    return null;
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // .NET closes a socket abortively when the close cancels a pending receive (a handshake that
                // timed out), so a dropped client may see a reset rather than a FIN.
                return null;
            }
        }
    }

    /// <summary>Reads until the remote closes; true for a clean end (FIN), false for a reset.</summary>
    public async Task<bool> ReadToEndAsync()
    {
        try
        {
            while (await ReceiveMoreAsync())
            {
            }

            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return false;
        }
    }

    /// <summary>Reads one unmasked frame (as a server sends) with a payload under 126 bytes.</summary>
    public async Task<(byte Opcode, byte[] Payload)> ReadFrameAsync()
    {
        while (_received.Count < 2 || _received.Count < 2 + (_received[1] & 0x7F))
        {
            Assert.True(await ReceiveMoreAsync(), "the connection ended inside a frame");
        }

        var length = _received[1] & 0x7F;
        Assert.True(length < 126 && (_received[1] & 0x80) == 0);
        var frame = (Opcode: (byte)(_received[0] & 0x0F), Payload: _received.GetRange(2, length).ToArray());
        _received.RemoveRange(0, 2 + length);
        return frame;
    }

    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Dispose();
    }

    public void Dispose() => Socket.Dispose();

    private async Task<bool> ReceiveMoreAsync()
    {
        var buffer = new byte[16 * 1024];
        var count = await Socket.ReceiveAsync(buffer, SocketFlags.None, Guard());
        _received.AddRange(buffer.AsSpan(0, count));
        return count > 0;
    }
}

/// <summary>A raw TCP listener that plays a WebSocket server by hand.</summary>
internal sealed class RawWebSocketServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public RawWebSocketServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen();
        Address = Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{((IPEndPoint)_listener.LocalEndPoint!).Port}/ws");
    }

    public Multiaddr Address { get; }

    /// <summary>Accepts one connection and reads its upgrade request.</summary>
    public async Task<(RawWebSocketPeer Peer, HttpRequestHead Request)> AcceptAsync()
    {
        var peer = new RawWebSocketPeer(await _listener.AcceptAsync(Guard()));
        var buffer = new List<byte>();
        while (true)
        {
            var chunk = new byte[4096];
            var count = await peer.Socket.ReceiveAsync(chunk, SocketFlags.None, Guard());
            Assert.NotEqual(0, count);
            buffer.AddRange(chunk.AsSpan(0, count));
            var input = new ReadOnlySequence<byte>(buffer.ToArray());
            if (HttpHeadCodec.TryReadRequest(ref input, out var request))
            {
                return (peer, request);
            }
        }
    }

    /// <summary>The 101 answer for <paramref name="request"/>, as text.</summary>
    public static string Accept(HttpRequestHead request)
    {
        Assert.True(request.TryGetSingle("Sec-WebSocket-Key", out var key));
        return $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {WebSocketHandshake.ComputeAccept(key)}\r\n\r\n";
    }

    public void Dispose() => _listener.Dispose();
}
