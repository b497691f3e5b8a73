using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>
/// Bad input end to end: raw clients on 127.0.0.1 send a running node garbage, cut-off or forged handshakes and
/// oversized negotiation lines. The node closes each such connection, counts it as a failed upgrade, keeps no
/// connection from it, and goes on serving a well-behaved peer.
/// </summary>
public sealed class BadInputTests(ITestOutputHelper output)
{
    private static readonly byte[] MultistreamHeader = Message("/multistream/1.0.0");
    private static readonly byte[] NoiseProposal = Message("/noise");

    public static TheoryData<string> RawTcpCases => [.. RawTcpClients.Keys];

    /// <summary>How a raw client ends after sending.</summary>
    private enum Ending
    {
        /// <summary>Reads until the node closes the connection.</summary>
        AwaitClose,

        /// <summary>Half-closes, so the node reads the end of the input, then reads until the node closes.</summary>
        HalfClose,

        /// <summary>Aborts the connection with a TCP reset.</summary>
        Reset,
    }

    /// <summary>What each raw client sends, and how it ends.</summary>
    private static Dictionary<string, (byte[] Bytes, Ending Ending)> RawTcpClients => new()
    {
        ["random bytes"] = (RandomBytes(4096), Ending.AwaitClose),
        // 'G' reads as a length prefix of 71: the request is long enough to fill that message, which is no header. (A
        // shorter one leaves the node waiting for the rest of the message until its upgrade timeout, 15 s.)
        ["an HTTP request"] = (Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: interop-test\r\nConnection: keep-alive\r\n\r\n"), Ending.AwaitClose),
        ["the multistream header, then random bytes"] = ([.. MultistreamHeader, .. RandomBytes(4096)], Ending.AwaitClose),
        // A line of 100 000 bytes where at most 1 KiB (a protocol id) is allowed: refused from its length prefix.
        ["an oversized multistream line"] = ([.. MultistreamHeader, .. Varint(100_000), .. Enumerable.Repeat((byte)'a', 100_000)], Ending.AwaitClose),
        ["a multistream line without its newline"] = ([.. MultistreamHeader, 0x07, .. "/noise!"u8], Ending.AwaitClose),
        // Noise XX message 1 is the 32-byte ephemeral key; this one stops after 10 bytes, then the input ends.
        ["a truncated Noise handshake"] = ([.. MultistreamHeader, .. NoiseProposal, 0x00, 0x20, .. RandomBytes(10)], Ending.HalfClose),
        // A whole message 1, then a message 3 that is not encrypted with the handshake's keys.
        ["a forged final Noise message"] = ([.. MultistreamHeader, .. NoiseProposal, 0x00, 0x20, .. RandomBytes(32), 0x00, 0xc8, .. RandomBytes(200)], Ending.AwaitClose),
        // The largest length prefix a Noise frame can have, and far fewer bytes.
        ["a Noise frame shorter than its length"] = ([.. MultistreamHeader, .. NoiseProposal, 0xff, 0xff, .. RandomBytes(100)], Ending.HalfClose),
        ["half a Noise handshake, then a reset"] = ([.. MultistreamHeader, .. NoiseProposal, 0x00, 0x20, .. RandomBytes(16)], Ending.Reset),
    };

    [Theory]
    [MemberData(nameof(RawTcpCases))]
    public async Task A_raw_tcp_client_sending_bad_input_is_disconnected_and_the_node_keeps_serving(string input)
    {
        using var deadline = Wait.Deadline(60);
        await using var node = await CSharpNode.StartAsync(output, deadline.Token);
        var (bytes, ending) = RawTcpClients[input];

        await RawClientAsync(EndPoint(node, Transport.Tcp), bytes, ending, deadline.Token);

        await AssertRefusedThenServesAsync(node, deadline.Token);
    }

    [Fact]
    public async Task A_websocket_client_sending_garbage_after_the_upgrade_is_disconnected_and_the_node_keeps_serving()
    {
        using var deadline = Wait.Deadline(60);
        await using var node = await CSharpNode.StartAsync(output, deadline.Token);
        var endpoint = EndPoint(node, Transport.WebSocket);

        using (var client = new ClientWebSocket())
        {
            await client.ConnectAsync(new Uri($"ws://{endpoint}/"), deadline.Token);
            await client.SendAsync(RandomBytes(4096), WebSocketMessageType.Binary, endOfMessage: true, deadline.Token);
            var buffer = new byte[4096];
            try
            {
                while ((await client.ReceiveAsync(buffer, deadline.Token)).MessageType != WebSocketMessageType.Close)
                {
                }
            }
            catch (WebSocketException)
            {
                // Closed without a close frame: also a close.
            }
        }

        await AssertRefusedThenServesAsync(node, deadline.Token);
    }

    [Fact]
    public async Task Garbage_to_the_websocket_listener_is_disconnected_and_the_node_keeps_serving()
    {
        using var deadline = Wait.Deadline(60);
        await using var node = await CSharpNode.StartAsync(output, deadline.Token);

        byte[] request = [.. Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n"), .. Enumerable.Repeat((byte)'x', 70_000), .. "\r\n\r\n"u8];
        await RawClientAsync(EndPoint(node, Transport.WebSocket), request, Ending.AwaitClose, deadline.Token);

        // The WebSocket transport refuses this before the host sees a connection, so there is no upgrade to count.
        await AssertServesAsync(node, deadline.Token);
    }

    /// <summary>The node counted exactly one failed upgrade, holds no connection, and still serves a good peer.</summary>
    private async Task AssertRefusedThenServesAsync(CSharpNode node, CancellationToken cancellationToken)
    {
        await Wait.UntilAsync(() => node.Host.Counters[Refusal.UpgradeFailed] == 1, "the node to count the failed upgrade", cancellationToken);
        Assert.Equal(0, node.Host.ConnectionCount);
        await AssertServesAsync(node, cancellationToken);
        Assert.Equal(1, node.Host.Counters[Refusal.UpgradeFailed]);
    }

    private async Task AssertServesAsync(CSharpNode node, CancellationToken cancellationToken)
    {
        Assert.Empty(node.Host.GetConnections());
        await using (var client = await CSharpNode.StartAsync(output, cancellationToken))
        {
            foreach (var transport in new[] { Transport.Tcp, Transport.WebSocket })
            {
                var connection = await client.Host.ConnectAsync(node.Address(transport), cancellationToken);
                Assert.Single(await client.Services.Ping.PingAsync(connection, 1, cancellationToken));
                Assert.Equal("good"u8.ToArray(), await EchoService.EchoAsync(connection, "good"u8.ToArray(), cancellationToken));
                await connection.CloseAsync(cancellationToken);
                await Wait.UntilAsync(() => node.Host.ConnectionCount == 0, "the node to drop the good connection", cancellationToken);
            }
        }

        Assert.Empty(node.Host.GetConnections());
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, sends <paramref name="bytes"/> and ends as <paramref name="ending"/> says.
    /// Waiting for the close is bounded by <paramref name="cancellationToken"/>: a node that keeps the connection fails.
    /// </summary>
    private static async Task RawClientAsync(IPEndPoint endpoint, byte[] bytes, Ending ending, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endpoint, cancellationToken);
        await SendAsync(socket, bytes, cancellationToken);
        switch (ending)
        {
            case Ending.Reset:
                socket.LingerState = new LingerOption(true, 0);
                return;
            case Ending.HalfClose:
                socket.Shutdown(SocketShutdown.Send);
                break;
        }

        await ReadUntilClosedAsync(socket, cancellationToken);
    }

    /// <summary>127.0.0.1 and the port of the node's <c>/ip4/127.0.0.1/tcp/PORT[/ws]</c> listen address.</summary>
    private static IPEndPoint EndPoint(CSharpNode node, Transport transport)
    {
        var parts = node.Address(transport).ToString().Split('/');
        Assert.Equal(["", "ip4", "127.0.0.1", "tcp"], parts[..4]);
        return new IPEndPoint(IPAddress.Loopback, int.Parse(parts[4], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Sends everything; the node may close while we are still sending, which ends the send early.</summary>
    private static async Task SendAsync(Socket socket, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            for (var sent = 0; sent < bytes.Length;)
            {
                sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancellationToken);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
        }
    }

    private static async Task ReadUntilClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
        }
    }

    private static byte[] Message(string line) => [.. Varint((ulong)line.Length + 1), .. Encoding.ASCII.GetBytes(line), (byte)'\n'];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        for (; value >= 0x80; value >>= 7)
        {
            bytes.Add((byte)(value | 0x80));
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
