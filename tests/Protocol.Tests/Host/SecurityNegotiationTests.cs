using System.Net;
using System.Net.Sockets;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Host;

/// <summary>How a dialing host negotiates its one security protocol on the raw connection.</summary>
public class SecurityNegotiationTests
{
    // multistream-select messages: varint length, text, newline.
    private static readonly byte[] Header = Message("/multistream/1.0.0");
    private static readonly byte[] NoiseProposal = Message("/noise");

    [Fact]
    public async Task The_dialer_sends_header_proposal_and_the_first_noise_message_without_waiting_for_an_answer()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using var host = await TestHosts.StartAsync();
        var target = PeerId.FromPublicKey(PrivateKey.Generate(KeyType.Ed25519).GetPublicKey());
        using var dialTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var dial = host.ConnectAsync(Multiaddr.Parse($"/ip4/127.0.0.1/tcp/{port}").WithPeerId(target), dialTimeout.Token).AsTask();

        using var socket = await listener.AcceptSocketAsync();
        var expectedLength = Header.Length + NoiseProposal.Length + 2 + 32;
        var received = new byte[expectedLength];
        var total = 0;
        using var readTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (total < expectedLength)
        {
            // Nothing is ever answered: everything must arrive unprompted.
            var n = await socket.ReceiveAsync(received.AsMemory(total), SocketFlags.None, readTimeout.Token);
            Assert.NotEqual(0, n);
            total += n;
        }

        Assert.Equal(Header, received[..Header.Length]);
        Assert.Equal(NoiseProposal, received[Header.Length..(Header.Length + NoiseProposal.Length)]);

        // Noise XX message 1 is the initiator's 32-byte ephemeral key behind a 16-bit big-endian length.
        Assert.Equal(new byte[] { 0, 32 }, received[(Header.Length + NoiseProposal.Length)..(Header.Length + NoiseProposal.Length + 2)]);

        socket.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => dial);
    }

    private static byte[] Message(string text)
    {
        var body = Encoding.UTF8.GetBytes(text + "\n");
        return [(byte)body.Length, .. body];
    }
}
