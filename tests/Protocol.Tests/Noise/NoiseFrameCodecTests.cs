using System.Buffers;
using FsCheck;
using FsCheck.Xunit;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

public class NoiseFrameCodecTests
{
    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

    [Property]
    public void Frames_round_trip_across_any_segmentation(byte[][] plaintexts, PositiveInt segmentLength)
    {
        using var sender = new CipherState(Key);
        using var receiver = new CipherState(Key);
        var wire = new ArrayBufferWriter<byte>();
        foreach (var plaintext in plaintexts)
        {
            Assert.Equal(2 + plaintext.Length + 16, NoiseFrameCodec.WriteFrame(wire, sender, plaintext));
        }

        var input = Segments.Split(wire.WrittenSpan.ToArray(), segmentLength.Get);
        var output = new ArrayBufferWriter<byte>();
        var lengths = new List<int>();
        while (NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out var length))
        {
            lengths.Add(length);
        }

        Assert.True(input.IsEmpty);
        Assert.Equal(plaintexts.Select(p => p.Length), lengths);
        Assert.Equal(plaintexts.SelectMany(p => p).ToArray(), output.WrittenSpan.ToArray());
    }

    [Property]
    public void Multi_segment_plaintext_encrypts_like_contiguous_plaintext(byte[] plaintext, PositiveInt segmentLength)
    {
        using var contiguousSender = new CipherState(Key);
        using var segmentedSender = new CipherState(Key);
        var contiguous = new ArrayBufferWriter<byte>();
        var segmented = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(contiguous, contiguousSender, plaintext);
        NoiseFrameCodec.WriteFrame(segmented, segmentedSender, Segments.Split(plaintext, segmentLength.Get));
        Assert.Equal(contiguous.WrittenSpan.ToArray(), segmented.WrittenSpan.ToArray());
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        using var receiver = new CipherState(Key);
        var input = new ReadOnlySequence<byte>(bytes);
        var output = new ArrayBufferWriter<byte>();
        try
        {
            while (NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out _))
            {
            }
        }
        catch (WireFormatException)
        {
        }
    }

    [Fact]
    public void Every_incomplete_prefix_asks_for_more_and_consumes_nothing()
    {
        using var sender = new CipherState(Key);
        var wire = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(wire, sender, new byte[40]);
        var frame = wire.WrittenSpan.ToArray();
        for (var length = 0; length < frame.Length; length++)
        {
            using var receiver = new CipherState(Key);
            var input = Segments.Split(frame[..length], 3);
            var output = new ArrayBufferWriter<byte>();
            Assert.False(NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out _));
            Assert.Equal(length, input.Length);
            Assert.Equal(0, output.WrittenCount);
            Assert.Equal(0UL, receiver.Nonce);
        }
    }

    [Fact]
    public void The_largest_frame_has_length_65535_and_one_more_byte_is_refused()
    {
        using var sender = new CipherState(Key);
        using var receiver = new CipherState(Key);
        var wire = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(wire, sender, new byte[NoiseConstants.MaxPlaintextLength]);
        Assert.Equal([0xFF, 0xFF], wire.WrittenSpan[..2].ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => NoiseFrameCodec.WriteFrame(wire, sender, new byte[NoiseConstants.MaxPlaintextLength + 1]));

        var input = Segments.Split(wire.WrittenSpan.ToArray(), 4096);
        var output = new ArrayBufferWriter<byte>();
        Assert.True(NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out var length));
        Assert.Equal(NoiseConstants.MaxPlaintextLength, length);
    }

    [Fact]
    public void A_frame_shorter_than_a_tag_is_a_format_error()
    {
        using var receiver = new CipherState(Key);
        var input = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x0F }.Concat(new byte[15]).ToArray());
        var exception = Assert.Throws<WireFormatException>(() => NoiseFrameCodec.TryReadFrame(ref input, receiver, new ArrayBufferWriter<byte>(), out _));
        Assert.Contains("shorter than its 16-byte tag", exception.Message);
    }

    [Fact]
    public void A_tampered_frame_is_an_authentication_error_and_nothing_is_consumed()
    {
        using var sender = new CipherState(Key);
        using var receiver = new CipherState(Key);
        var wire = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(wire, sender, "hello"u8);
        var frame = wire.WrittenSpan.ToArray();
        frame[5] ^= 0x80;
        var input = new ReadOnlySequence<byte>(frame);
        var output = new ArrayBufferWriter<byte>();
        Assert.Throws<NoiseAuthenticationException>(() => NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out _));
        Assert.Equal(frame.Length, input.Length);
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Frames_under_different_keys_or_out_of_order_fail()
    {
        using var sender = new CipherState(Key);
        var wire = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(wire, sender, "first"u8);
        var first = wire.WrittenSpan.ToArray();
        wire.Clear();
        NoiseFrameCodec.WriteFrame(wire, sender, "second"u8);
        var second = wire.WrittenSpan.ToArray();

        using var receiver = new CipherState(Key);
        var swapped = new ReadOnlySequence<byte>(second);
        Assert.Throws<NoiseAuthenticationException>(() => NoiseFrameCodec.TryReadFrame(ref swapped, receiver, new ArrayBufferWriter<byte>(), out _));

        using var otherKey = new CipherState(new byte[32]);
        var input = new ReadOnlySequence<byte>(first);
        Assert.Throws<NoiseAuthenticationException>(() => NoiseFrameCodec.TryReadFrame(ref input, otherKey, new ArrayBufferWriter<byte>(), out _));
    }

    /// <summary>The DERIVED libp2p handshake (see Vectors/noise/PROVENANCE.md): libp2p message order (empty message 1,
    /// responder payload in 2, initiator payload in 3), 2-byte framing, and the first transport frame.</summary>
    [Fact]
    public void Libp2p_derived_handshake_frames_are_reproduced()
    {
        var vector = VectorFile.Json("noise", "libp2p-noise-xx-handshake-derived.json");
        var keys = vector.GetProperty("keys");
        var frames = vector.GetProperty("wire_frames_hex").EnumerateArray().Select(f => Convert.ToHexStringLower(f.Hex())).ToArray();
        byte[][] payloads = [[], vector.GetProperty("payload_msg2_protobuf_hex").Hex(), vector.GetProperty("payload_msg3_protobuf_hex").Hex()];

        using var initiatorStatic = X25519KeyPair.FromPrivateKey(keys.GetProperty("init_static").Hex());
        using var responderStatic = X25519KeyPair.FromPrivateKey(keys.GetProperty("resp_static").Hex());
        using var initiator = new HandshakeState(true, initiatorStatic, ephemeralKeyFactory: () => X25519KeyPair.FromPrivateKey(keys.GetProperty("init_ephemeral").Hex()));
        using var responder = new HandshakeState(false, responderStatic, ephemeralKeyFactory: () => X25519KeyPair.FromPrivateKey(keys.GetProperty("resp_ephemeral").Hex()));
        var states = new[] { initiator, responder };
        for (var i = 0; i < 3; i++)
        {
            var wire = new ArrayBufferWriter<byte>();
            NoiseFrameCodec.WriteHandshakeMessage(wire, states[i % 2], payloads[i]);
            Assert.Equal(frames[i], Convert.ToHexStringLower(wire.WrittenSpan));

            var input = new ReadOnlySequence<byte>(wire.WrittenMemory);
            Assert.True(NoiseFrameCodec.TryReadMessage(ref input, out var message));
            Assert.True(input.IsEmpty);
            var reader = states[(i + 1) % 2];
            var payload = new byte[reader.GetPayloadLength((int)message.Length)];
            reader.ReadMessage(message.ToArray(), payload);
            Assert.Equal(payloads[i], payload);
        }

        Assert.Equal(vector.GetProperty("handshake_hash_hex").GetString(), Convert.ToHexStringLower(initiator.HandshakeHash));
        using var ciphers = new SplitCiphers(initiator.Split(), responder.Split());
        var transport = new ArrayBufferWriter<byte>();
        NoiseFrameCodec.WriteFrame(transport, ciphers.Responder.Sender, [19, .. "/multistream/1.0.0\n"u8]);
        Assert.Equal(frames[3], Convert.ToHexStringLower(transport.WrittenSpan));
    }
}
