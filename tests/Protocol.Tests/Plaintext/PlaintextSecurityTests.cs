using System.Buffers;
using System.IO.Pipelines;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Memory;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Plaintext;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Tests.Plaintext;

public class PlaintextSecurityTests
{
    [Fact]
    public async Task Both_sides_learn_each_others_peer_id_and_key_and_the_pipe_carries_what_follows()
    {
        var (dialer, accepter) = await ConnectAsync();
        var dialerKey = PrivateKey.Generate(KeyType.Ed25519);
        var accepterKey = PrivateKey.Generate(KeyType.Secp256k1);
        var accepterId = PeerId.FromPublicKey(accepterKey.GetPublicKey());

        var outbound = new PlaintextSecurity(dialerKey).SecureOutboundAsync(dialer, accepterId).AsTask();
        var inbound = await new PlaintextSecurity(accepterKey).SecureInboundAsync(accepter);
        var secured = await outbound;

        Assert.Equal(accepterId, secured.RemotePeer);
        Assert.Equal(PeerId.FromPublicKey(dialerKey.GetPublicKey()), inbound.RemotePeer);
        Assert.Equal(dialerKey.GetPublicKey(), inbound.RemotePublicKey);
        Assert.Null(secured.EarlyMuxer);

        await secured.Pipe.Output.WriteAsync("after"u8.ToArray());
        var read = await inbound.Pipe.Input.ReadAsync();
        Assert.Equal("after"u8.ToArray(), read.Buffer.ToArray());
    }

    [Fact]
    public async Task A_listener_that_is_not_the_dialled_peer_fails_the_dial_and_aborts_the_connection()
    {
        var (dialer, accepter) = await ConnectAsync();
        var someoneElse = PeerId.FromPublicKey(PrivateKey.Generate(KeyType.Ed25519).GetPublicKey());

        var outbound = new PlaintextSecurity(PrivateKey.Generate(KeyType.Ed25519)).SecureOutboundAsync(dialer, someoneElse).AsTask();
        _ = new PlaintextSecurity(PrivateKey.Generate(KeyType.Ed25519)).SecureInboundAsync(accepter).AsTask();

        var mismatch = await Assert.ThrowsAsync<PeerIdMismatchException>(() => outbound);
        Assert.Equal(someoneElse, mismatch.Expected);
    }

    [Fact]
    public void An_exchange_whose_id_is_not_its_keys_is_refused()
    {
        var key = PrivateKey.Generate(KeyType.Ed25519).GetPublicKey();
        var otherId = PeerId.FromPublicKey(PrivateKey.Generate(KeyType.Ed25519).GetPublicKey());
        var codec = PlaintextExchangeCodec.Instance;
        var message = new PlaintextExchange(otherId, key);
        var body = new byte[codec.GetEncodedLength(message)];
        codec.Encode(message, body);

        var refused = Assert.Throws<WireFormatException>(() => codec.Decode(body));
        Assert.Contains("is not its key's peer id", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_remote_that_sends_garbage_is_refused_with_a_wire_format_error()
    {
        var (dialer, accepter) = await ConnectAsync();
        await accepter.Output.WriteAsync(new byte[] { 0x03, 0x0a, 0x01, 0xff });

        await Assert.ThrowsAnyAsync<WireFormatException>(async () =>
            await new PlaintextSecurity(PrivateKey.Generate(KeyType.Ed25519)).SecureOutboundAsync(dialer, null));
    }

    private static async Task<(ITransportConnection Dialer, ITransportConnection Accepter)> ConnectAsync()
    {
        var network = new MemoryNetwork();
        var left = network.CreateTransport();
        var right = network.CreateTransport();
        var listener = await right.ListenAsync(Multiaddr.Parse("/memory/0"));
        var dialer = await left.DialAsync(right.Address, TransportDialOptions.Default);
        return (dialer, (await listener.AcceptAsync())!);
    }
}
