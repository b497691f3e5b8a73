using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

public class NoiseSecuredPipeTests
{
    // A guard against a hung test only; nothing here measures speed.
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task In_memory_pair_transfers_both_ways_and_half_closes()
    {
        var (rawA, rawB) = DuplexPipe.CreatePair();
        using var ciphers = NoisePairs.Handshake();
        var logger = new RecordingLogger();
        await using var a = new NoiseSecuredPipe(rawA, ciphers.Initiator, logger);
        await using var b = new NoiseSecuredPipe(rawB, ciphers.Responder, logger);

        await PipeTraffic.TransferBothWaysAsync(a, b, 4 << 20).WaitAsync(HangGuard);
        await Task.WhenAll(a.Completion, b.Completion).WaitAsync(HangGuard);
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public async Task Loopback_tcp_handshake_then_32_MiB_each_way_with_checksums_and_half_close()
    {
        var (client, server) = await LoopbackSocketTransport.ConnectAsync();
        await using (client)
        await using (server)
        {
            using var clientStatic = X25519KeyPair.Generate();
            using var serverStatic = X25519KeyPair.Generate();
            using var initiator = new HandshakeState(true, clientStatic);
            using var responder = new HandshakeState(false, serverStatic);
            var clientSaw = new List<string>();
            var serverSaw = new List<string>();
            var initiating = NoiseHandshake.RunAsync(client, initiator, "initiator payload"u8.ToArray(), (key, payload) => clientSaw.Add(Describe(key, payload))).AsTask();
            var responding = NoiseHandshake.RunAsync(server, responder, "responder payload"u8.ToArray(), (key, payload) => serverSaw.Add(Describe(key, payload))).AsTask();
            var results = await Task.WhenAll(initiating, responding).WaitAsync(HangGuard);

            Assert.Equal([Describe(serverStatic.PublicKey, "responder payload"u8)], clientSaw);
            Assert.Equal([Describe(clientStatic.PublicKey, "initiator payload"u8)], serverSaw);
            Assert.Equal(results[0].HandshakeHash, results[1].HandshakeHash);
            Assert.Equal(serverStatic.PublicKey.ToArray(), results[0].RemoteStaticPublicKey);

            var logger = new RecordingLogger();
            await using var a = new NoiseSecuredPipe(client, results[0].Ciphers, logger);
            await using var b = new NoiseSecuredPipe(server, results[1].Ciphers, logger);
            await PipeTraffic.TransferBothWaysAsync(a, b, 32 << 20).WaitAsync(HangGuard);
            await Task.WhenAll(a.Completion, b.Completion).WaitAsync(HangGuard);
            Assert.Empty(logger.Entries);
        }
    }

    [Fact]
    public async Task After_half_close_the_other_direction_still_works()
    {
        var (rawA, rawB) = DuplexPipe.CreatePair();
        using var ciphers = NoisePairs.Handshake();
        var logger = new RecordingLogger();
        await using var a = new NoiseSecuredPipe(rawA, ciphers.Initiator, logger);
        await using var b = new NoiseSecuredPipe(rawB, ciphers.Responder, logger);

        await a.Output.WriteAsync("request"u8.ToArray());
        await a.Output.CompleteAsync();
        Assert.Equal("request", await PipeTraffic.ReadToEndAsync(b.Input).WaitAsync(HangGuard));

        await b.Output.WriteAsync("response after the request's end"u8.ToArray());
        await b.Output.CompleteAsync();
        Assert.Equal("response after the request's end", await PipeTraffic.ReadToEndAsync(a.Input).WaitAsync(HangGuard));
        await Task.WhenAll(a.Completion, b.Completion).WaitAsync(HangGuard);
    }

    [Fact]
    public async Task Frames_carry_at_most_65519_plaintext_bytes()
    {
        var (rawA, rawB) = DuplexPipe.CreatePair();
        using var ciphers = NoisePairs.Handshake();
        await using var a = new NoiseSecuredPipe(rawA, ciphers.Initiator, new RecordingLogger());
        var data = RandomNumberGenerator.GetBytes((3 * NoiseConstants.MaxPlaintextLength) + 1000);
        await a.Output.WriteAsync(data);
        await a.Output.CompleteAsync();

        var received = new ArrayBufferWriter<byte>();
        var messageLengths = new List<long>();
        while (true)
        {
            var result = await rawB.Input.ReadAsync().AsTask().WaitAsync(HangGuard);
            var buffer = result.Buffer;
            var probe = buffer;
            while (NoiseFrameCodec.TryReadMessage(ref probe, out var message))
            {
                messageLengths.Add(message.Length);
            }

            while (NoiseFrameCodec.TryReadFrame(ref buffer, ciphers.Responder.Receiver, received, out _))
            {
            }

            rawB.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        // Full frames carry FramePlaintextLength (a whole frame is then exactly 64 KiB on the wire), never more
        // than the 65519 the spec allows; the rest goes in a last, short frame.
        const long full = NoiseConstants.FramePlaintextLength + NoiseConstants.TagLength;
        var rest = data.Length - (3L * NoiseConstants.FramePlaintextLength) + NoiseConstants.TagLength;
        Assert.Equal([full, full, full, rest], messageLengths);
        Assert.All(messageLengths, length => Assert.True(length <= NoiseConstants.MaxMessageLength));
        Assert.Equal(data, received.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task A_tampered_frame_closes_the_connection_with_a_logged_reason()
    {
        var (rawA, rawB) = DuplexPipe.CreatePair();
        using var ciphers = NoisePairs.Handshake();
        var logger = new RecordingLogger();
        await using var b = new NoiseSecuredPipe(rawB, ciphers.Responder, logger);

        var frames = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(frames, ciphers.Initiator.Sender, "good"u8);
        NoiseFrameCodec.WriteFrame(frames, ciphers.Initiator.Sender, "evil"u8);
        var wire = frames.WrittenSpan.ToArray();
        wire[^3] ^= 0x01;
        await rawA.Output.WriteAsync(wire);

        await Assert.ThrowsAsync<NoiseAuthenticationException>(async () => await PipeTraffic.ReadToEndAsync(b.Input).WaitAsync(HangGuard));
        await Assert.ThrowsAsync<NoiseAuthenticationException>(() => b.Completion.WaitAsync(HangGuard));
        await Assert.ThrowsAsync<NoiseAuthenticationException>(async () => await b.Output.WriteAsync("more"u8.ToArray()));
        var (level, message) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains("failed ChaCha20-Poly1305 authentication", message);

        // The raw transport is closed in both directions with the same reason.
        await Assert.ThrowsAsync<NoiseAuthenticationException>(async () => await rawA.Input.ReadAsync().AsTask().WaitAsync(HangGuard));
    }

    [Fact]
    public async Task A_transport_ending_inside_a_frame_is_a_format_error()
    {
        var (rawA, rawB) = DuplexPipe.CreatePair();
        using var ciphers = NoisePairs.Handshake();
        var logger = new RecordingLogger();
        await using var b = new NoiseSecuredPipe(rawB, ciphers.Responder, logger);

        var frames = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(frames, ciphers.Initiator.Sender, "complete"u8);
        NoiseFrameCodec.WriteFrame(frames, ciphers.Initiator.Sender, "cut short"u8);
        var firstFrameLength = NoiseFrameCodec.LengthPrefixLength + "complete".Length + NoiseConstants.TagLength;

        // The complete frame is read before the cut one arrives: a connection error discards undelivered plaintext.
        await rawA.Output.WriteAsync(frames.WrittenMemory[..firstFrameLength]);
        var result = await b.Input.ReadAtLeastAsync(8).AsTask().WaitAsync(HangGuard);
        Assert.Equal("complete", Encoding.ASCII.GetString(result.Buffer));
        b.Input.AdvanceTo(result.Buffer.End);
        await rawA.Output.WriteAsync(frames.WrittenMemory[firstFrameLength..^5]);
        await rawA.Output.CompleteAsync();
        var exception = await Assert.ThrowsAsync<WireFormatException>(async () => await b.Input.ReadAsync().AsTask().WaitAsync(HangGuard));
        Assert.Contains("inside a Noise frame", exception.Message);
        Assert.Contains(logger.Entries, e => e.Message.Contains("inside a Noise frame", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Data_sent_right_after_message_3_is_not_lost()
    {
        var (rawInitiator, rawResponder) = DuplexPipe.CreatePair();
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic);
        using var responder = new HandshakeState(false, responderStatic);
        var responding = NoiseHandshake.RunAsync(rawResponder, responder, "r"u8.ToArray(), (_, _) => { }).AsTask();

        // The initiator by hand: message 3 and the first transport frame leave in one write.
        NoiseFrameCodec.WriteHandshakeMessage(rawInitiator.Output, initiator, []);
        await rawInitiator.Output.FlushAsync();
        var result = await rawInitiator.Input.ReadAsync().AsTask().WaitAsync(HangGuard);
        var buffer = result.Buffer;
        Assert.True(NoiseFrameCodec.TryReadMessage(ref buffer, out var message2));
        initiator.ReadMessage(message2.ToArray(), new byte[message2.Length]);
        rawInitiator.Input.AdvanceTo(buffer.Start);
        NoiseFrameCodec.WriteHandshakeMessage(rawInitiator.Output, initiator, "i"u8);
        var initiatorCiphers = initiator.Split();
        NoiseFrameCodec.WriteFrame(rawInitiator.Output, initiatorCiphers.Sender, "early data"u8);
        await rawInitiator.Output.FlushAsync();
        await rawInitiator.Output.CompleteAsync();

        var handshake = await responding.WaitAsync(HangGuard);
        await using var secured = new NoiseSecuredPipe(rawResponder, handshake.Ciphers, new RecordingLogger());
        Assert.Equal("early data", await PipeTraffic.ReadToEndAsync(secured.Input).WaitAsync(HangGuard));
        initiatorCiphers.Sender.Dispose();
        initiatorCiphers.Receiver.Dispose();
    }

    [Fact]
    public async Task A_rejected_responder_payload_stops_the_initiator_before_message_3()
    {
        var (rawInitiator, rawResponder) = DuplexPipe.CreatePair();
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic);
        using var responder = new HandshakeState(false, responderStatic);
        var responding = NoiseHandshake.RunAsync(rawResponder, responder, "bad identity"u8.ToArray(), (_, _) => { }).AsTask();
        var initiating = NoiseHandshake.RunAsync(rawInitiator, initiator, "i"u8.ToArray(), (_, payload) =>
            throw new InvalidDataException($"rejected {Encoding.ASCII.GetString(payload)}")).AsTask();

        var rejection = await Assert.ThrowsAsync<InvalidDataException>(() => initiating.WaitAsync(HangGuard));
        Assert.Equal("rejected bad identity", rejection.Message);
        Assert.Equal(2, initiator.MessageIndex);
        await rawInitiator.Output.CompleteAsync();
        await Assert.ThrowsAsync<IOException>(() => responding.WaitAsync(HangGuard));
    }

    private static string Describe(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload) =>
        $"{Convert.ToHexStringLower(key)}:{Encoding.ASCII.GetString(payload)}";
}
