using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Noise;

public class NoiseSecurityTests(IdentityKeys keys) : IClassFixture<IdentityKeys>
{
    // A guard against a hung test only; nothing here measures speed.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private static readonly string[] Yamux = [Libp2pHandshakeVector.Muxer];

    public static TheoryData<KeyType, KeyType> EveryPairOfKeyTypes()
    {
        var data = new TheoryData<KeyType, KeyType>();
        foreach (var initiator in Enum.GetValues<KeyType>())
        {
            foreach (var responder in Enum.GetValues<KeyType>())
            {
                data.Add(initiator, responder);
            }
        }

        return data;
    }

    /// <summary>The vector's responder, fed the vector's messages 1 and 3, writes message 2 and its first transport
    /// frame byte for byte.</summary>
    [Fact]
    public async Task Derived_vector_as_responder_reproduces_every_frame()
    {
        var vector = Libp2pHandshakeVector.Load();
        var logger = new RecordingLogger();
        using var responder = vector.CreateResponder(logger);
        var (transport, sent) = await ScriptedTransportAsync([.. vector.Frames[0], .. vector.Frames[2]], complete: false);

        var channel = await responder.SecureInboundAsync(transport).AsTask().WaitAsync(HangGuard);
        await using var pipe = Assert.IsType<NoiseSecuredPipe>(channel.Pipe);

        Assert.Equal(vector.Frames[1], await PipeTraffic.ReadExactlyAsync(sent, vector.Frames[1].Length).WaitAsync(HangGuard));
        Assert.Equal(vector.InitiatorPeer, channel.RemotePeer);
        Assert.Equal(vector.InitiatorIdentity.GetPublicKey(), channel.RemotePublicKey);
        Assert.Equal(Libp2pHandshakeVector.Muxer, channel.EarlyMuxer);

        await pipe.Output.WriteAsync(Libp2pHandshakeVector.FirstTransportPlaintext);
        Assert.Equal(vector.Frames[3], await PipeTraffic.ReadExactlyAsync(sent, vector.Frames[3].Length).WaitAsync(HangGuard));
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    /// <summary>The vector's initiator, fed the vector's message 2, writes messages 1 and 3 byte for byte and
    /// decrypts the responder's first transport frame.</summary>
    [Fact]
    public async Task Derived_vector_as_initiator_reproduces_every_frame()
    {
        var vector = Libp2pHandshakeVector.Load();
        var logger = new RecordingLogger();
        using var initiator = vector.CreateInitiator(logger);
        var (transport, sent) = await ScriptedTransportAsync([.. vector.Frames[1], .. vector.Frames[3]], complete: false);

        var channel = await initiator.SecureOutboundAsync(transport, vector.ResponderPeer).AsTask().WaitAsync(HangGuard);
        await using var pipe = Assert.IsType<NoiseSecuredPipe>(channel.Pipe);

        byte[] messages1And3 = [.. vector.Frames[0], .. vector.Frames[2]];
        Assert.Equal(messages1And3, await PipeTraffic.ReadExactlyAsync(sent, messages1And3.Length).WaitAsync(HangGuard));
        Assert.Equal(vector.ResponderPeer, channel.RemotePeer);
        Assert.Equal(vector.ResponderIdentity.GetPublicKey(), channel.RemotePublicKey);
        Assert.Equal(Libp2pHandshakeVector.Muxer, channel.EarlyMuxer);
        var firstMessage = Libp2pHandshakeVector.FirstTransportPlaintext;
        Assert.Equal(firstMessage, await PipeTraffic.ReadExactlyAsync(pipe.Input, firstMessage.Length).WaitAsync(HangGuard));
    }

    [Theory]
    [MemberData(nameof(EveryPairOfKeyTypes))]
    public async Task In_memory_handshake_between_key_types_then_data_both_ways(KeyType initiatorType, KeyType responderType)
    {
        var (a, b) = DuplexPipe.CreatePair();
        await HandshakeAndTransferAsync(keys[initiatorType], keys[responderType], a, b);
    }

    /// <summary>Every key type once as initiator and once as responder, over real sockets.</summary>
    [Theory]
    [InlineData(KeyType.Ed25519, KeyType.Secp256k1)]
    [InlineData(KeyType.Secp256k1, KeyType.ECDSA)]
    [InlineData(KeyType.ECDSA, KeyType.RSA)]
    [InlineData(KeyType.RSA, KeyType.Ed25519)]
    public async Task Loopback_tcp_handshake_between_key_types_then_data_both_ways(KeyType initiatorType, KeyType responderType)
    {
        var (client, server) = await LoopbackSocketTransport.ConnectAsync();
        await using (client)
        await using (server)
        {
            await HandshakeAndTransferAsync(keys[initiatorType], keys[responderType], client, server);
        }
    }

    [Fact]
    public async Task One_instance_serves_concurrent_handshakes()
    {
        var logger = new RecordingLogger();
        using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], Yamux, logger);
        using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], Yamux, logger);
        var connections = Enumerable.Range(0, 8).Select(async _ =>
        {
            var (a, b) = DuplexPipe.CreatePair();
            var (outbound, inbound) = await HandshakeAsync(dialer, listener, a, b, listener.LocalPeer);
            await using var outboundPipe = Assert.IsType<NoiseSecuredPipe>(outbound.Pipe);
            await using var inboundPipe = Assert.IsType<NoiseSecuredPipe>(inbound.Pipe);
            Assert.Equal(dialer.LocalPeer, inbound.RemotePeer);
            await PipeTraffic.TransferBothWaysAsync(outboundPipe, inboundPipe, 100_000);
        });
        await Task.WhenAll(connections).WaitAsync(HangGuard);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Outbound_without_an_expected_peer_accepts_any_proven_identity()
    {
        var (a, b) = DuplexPipe.CreatePair();
        using var dialer = new NoiseSecurity(keys[KeyType.ECDSA], Yamux, new RecordingLogger());
        using var listener = new NoiseSecurity(keys[KeyType.RSA], Yamux, new RecordingLogger());
        var (outbound, inbound) = await HandshakeAsync(dialer, listener, a, b, expectedRemotePeer: null);
        await using var outboundPipe = Assert.IsType<NoiseSecuredPipe>(outbound.Pipe);
        await using var inboundPipe = Assert.IsType<NoiseSecuredPipe>(inbound.Pipe);
        Assert.Equal(listener.LocalPeer, outbound.RemotePeer);
    }

    /// <summary>The vector's initiator dialling another peer: it stops after message 2, sends no message 3 (so the
    /// responder never learns who dialled) and aborts the connection with the reason.</summary>
    [Fact]
    public async Task Wrong_expected_peer_fails_before_message_3()
    {
        var vector = Libp2pHandshakeVector.Load();
        var logger = new RecordingLogger();
        using var initiator = vector.CreateInitiator(logger);
        var (transport, _) = await ScriptedTransportAsync(vector.Frames[1], complete: false);

        var mismatch = await Assert.ThrowsAsync<PeerIdMismatchException>(() => initiator.SecureOutboundAsync(transport, vector.InitiatorPeer).AsTask().WaitAsync(HangGuard));

        Assert.Equal(vector.InitiatorPeer, mismatch.Expected);
        Assert.Equal(vector.ResponderPeer, mismatch.Actual);
        Assert.Equal(vector.Frames[0], transport.Sent);
        Assert.Same(mismatch, transport.OutputError);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains($"dialled {vector.InitiatorPeer} but the remote proved {vector.ResponderPeer}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Wrong_expected_peer_over_tcp_the_responder_sees_the_connection_closed()
    {
        var (client, server) = await LoopbackSocketTransport.ConnectAsync();
        await using (client)
        await using (server)
        {
            using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], Yamux, new RecordingLogger());
            using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], Yamux, new RecordingLogger());
            var someoneElse = PeerId.FromPublicKey(keys[KeyType.ECDSA].GetPublicKey());
            var tapped = new TappedDuplexPipe(client);

            var outbound = dialer.SecureOutboundAsync(tapped, someoneElse).AsTask();
            var inbound = listener.SecureInboundAsync(server).AsTask();

            var mismatch = await Assert.ThrowsAsync<PeerIdMismatchException>(() => outbound.WaitAsync(HangGuard));
            Assert.Equal(someoneElse, mismatch.Expected);
            Assert.Equal(listener.LocalPeer, mismatch.Actual);
            await Assert.ThrowsAnyAsync<IOException>(() => inbound.WaitAsync(HangGuard));
            Assert.Equal([NoiseConstants.DhLength], tapped.SentMessageLengths());
        }
    }

    [Fact]
    public async Task Cancelling_an_initiator_waiting_for_message_2_aborts_the_connection()
    {
        var logger = new RecordingLogger();
        using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], Yamux, logger);
        var (a, remote) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(a);
        using var timeout = new CancellationTokenSource();

        var outbound = dialer.SecureOutboundAsync(transport, null, timeout.Token).AsTask();
        await PipeTraffic.ReadExactlyAsync(remote.Input, NoiseFrameCodec.LengthPrefixLength + NoiseConstants.DhLength).WaitAsync(HangGuard);
        await timeout.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => outbound.WaitAsync(HangGuard));
        await AssertAbortedAsync(transport, remote);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("as initiator failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cancelling_a_responder_waiting_for_message_3_aborts_the_connection()
    {
        var vector = Libp2pHandshakeVector.Load();
        using var responder = vector.CreateResponder(new RecordingLogger());
        var (a, remote) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(a);
        using var timeout = new CancellationTokenSource();

        var inbound = responder.SecureInboundAsync(transport, timeout.Token).AsTask();
        await remote.Output.WriteAsync(vector.Frames[0]);
        Assert.Equal(vector.Frames[1], await PipeTraffic.ReadExactlyAsync(remote.Input, vector.Frames[1].Length).WaitAsync(HangGuard));
        await timeout.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => inbound.WaitAsync(HangGuard));
        await AssertAbortedAsync(transport, remote);
    }

    [Fact]
    public async Task An_already_cancelled_handshake_sends_nothing_and_aborts_the_connection()
    {
        using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], Yamux, new RecordingLogger());
        var (a, remote) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(a);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => dialer.SecureOutboundAsync(transport, null, new CancellationToken(canceled: true)).AsTask());

        Assert.Empty(transport.Sent);
        await AssertAbortedAsync(transport, remote);
    }

    [Fact]
    public async Task A_disposed_instance_refuses_handshakes_and_aborts_the_connection()
    {
        var listener = new NoiseSecurity(keys[KeyType.Ed25519], Yamux, new RecordingLogger());
        listener.Dispose();
        var (a, remote) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(a);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => listener.SecureInboundAsync(transport).AsTask());
        await AssertAbortedAsync(transport, remote);
    }

    [Fact]
    public void Exposes_its_protocol_id_identity_and_muxers()
    {
        using var security = new NoiseSecurity(keys[KeyType.Secp256k1], ["/yamux/1.0.0", "/mplex/6.7.0"], new RecordingLogger());
        Assert.Equal("/noise", security.ProtocolId);
        Assert.Equal(PeerId.FromPublicKey(keys[KeyType.Secp256k1].GetPublicKey()), security.LocalPeer);
        Assert.Equal(["/yamux/1.0.0", "/mplex/6.7.0"], security.StreamMuxers);
    }

    [Fact]
    public void Rejects_empty_muxer_ids_and_a_payload_too_large_for_a_noise_message()
    {
        var identity = keys[KeyType.Ed25519];
        Assert.Throws<ArgumentException>(() => new NoiseSecurity(identity, ["/yamux/1.0.0", ""], new RecordingLogger()));
        Assert.Throws<ArgumentException>(() => new NoiseSecurity(identity, [null!], new RecordingLogger()));
        var tooMany = Enumerable.Range(0, 700).Select(i => $"/muxer/{i}/{new string('x', 90)}").ToArray();
        Assert.Throws<ArgumentException>(() => new NoiseSecurity(identity, tooMany, new RecordingLogger()));
    }

    /// <summary>A transport whose input is <paramref name="received"/> (then, when <paramref name="complete"/>, its
    /// end) and whose output is recorded; also returns a reader of what was sent.</summary>
    internal static async Task<(TappedDuplexPipe Transport, PipeReader Sent)> ScriptedTransportAsync(byte[] received, bool complete)
    {
        var input = new Pipe();
        var output = new Pipe();
        await input.Writer.WriteAsync(received);
        if (complete)
        {
            await input.Writer.CompleteAsync();
        }

        return (new TappedDuplexPipe(new DuplexPipe(input.Reader, output.Writer)), output.Reader);
    }

    /// <summary>Checks that a failed handshake completed both directions of its transport: its output with the
    /// reason (the remote's reads fail) and its input (the remote's writes are refused).</summary>
    internal static async Task AssertAbortedAsync(TappedDuplexPipe transport, DuplexPipe remote)
    {
        Assert.NotNull(transport.OutputError);
        var error = await Record.ExceptionAsync(async () => await remote.Input.ReadAsync().AsTask().WaitAsync(HangGuard));
        Assert.Same(transport.OutputError, error);
        Assert.True((await remote.Output.WriteAsync(new byte[] { 0 })).IsCompleted);
    }

    private static async Task HandshakeAndTransferAsync(PrivateKey initiatorIdentity, PrivateKey responderIdentity, IDuplexPipe initiatorTransport, IDuplexPipe responderTransport)
    {
        var logger = new RecordingLogger();
        using var dialer = new NoiseSecurity(initiatorIdentity, Yamux, logger);
        using var listener = new NoiseSecurity(responderIdentity, Yamux, logger);
        var (outbound, inbound) = await HandshakeAsync(dialer, listener, initiatorTransport, responderTransport, listener.LocalPeer);
        await using var outboundPipe = Assert.IsType<NoiseSecuredPipe>(outbound.Pipe);
        await using var inboundPipe = Assert.IsType<NoiseSecuredPipe>(inbound.Pipe);

        Assert.Equal(listener.LocalPeer, outbound.RemotePeer);
        Assert.Equal(responderIdentity.GetPublicKey(), outbound.RemotePublicKey);
        Assert.Equal(dialer.LocalPeer, inbound.RemotePeer);
        Assert.Equal(initiatorIdentity.GetPublicKey(), inbound.RemotePublicKey);
        Assert.Equal(Libp2pHandshakeVector.Muxer, outbound.EarlyMuxer);
        Assert.Equal(Libp2pHandshakeVector.Muxer, inbound.EarlyMuxer);

        await PipeTraffic.TransferBothWaysAsync(outboundPipe, inboundPipe, 300_000).WaitAsync(HangGuard);
        await Task.WhenAll(outboundPipe.Completion, inboundPipe.Completion).WaitAsync(HangGuard);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    /// <summary>Runs both sides of a handshake concurrently.</summary>
    internal static async Task<(SecuredChannel Outbound, SecuredChannel Inbound)> HandshakeAsync(
        NoiseSecurity dialer, NoiseSecurity listener, IDuplexPipe dialerTransport, IDuplexPipe listenerTransport, PeerId? expectedRemotePeer)
    {
        var outbound = dialer.SecureOutboundAsync(dialerTransport, expectedRemotePeer).AsTask();
        var inbound = listener.SecureInboundAsync(listenerTransport).AsTask();
        await Task.WhenAll(outbound, inbound).WaitAsync(HangGuard);
        return (await outbound, await inbound);
    }
}
