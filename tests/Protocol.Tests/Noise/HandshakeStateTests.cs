using System.Security.Cryptography;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

public class HandshakeStateTests
{
    private static readonly byte[] InitiatorStatic = Convert.FromHexString("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1");
    private static readonly byte[] InitiatorEphemeral = Convert.FromHexString("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a");
    private static readonly byte[] ResponderStatic = Convert.FromHexString("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893");
    private static readonly byte[] ResponderEphemeral = Convert.FromHexString("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b");

    [Fact]
    public void Random_keys_complete_and_agree_on_hash_statics_and_transport_keys()
    {
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        byte[] prologue = [1, 2, 3];
        using var initiator = new HandshakeState(true, initiatorStatic, prologue);
        using var responder = new HandshakeState(false, responderStatic, prologue);

        Assert.True(initiator.IsMyTurnToWrite);
        Assert.False(responder.IsMyTurnToWrite);
        NoisePairs.Exchange(initiator, responder, []);
        Assert.True(responder.RemoteStaticPublicKey.IsEmpty);
        NoisePairs.Exchange(responder, initiator, RandomNumberGenerator.GetBytes(300));
        Assert.Equal(responderStatic.PublicKey.ToArray(), initiator.RemoteStaticPublicKey.ToArray());
        Assert.True(responder.RemoteStaticPublicKey.IsEmpty);
        NoisePairs.Exchange(initiator, responder, RandomNumberGenerator.GetBytes(200));
        Assert.Equal(initiatorStatic.PublicKey.ToArray(), responder.RemoteStaticPublicKey.ToArray());
        Assert.True(initiator.IsCompleted && responder.IsCompleted);
        Assert.Equal(initiator.HandshakeHash.ToArray(), responder.HandshakeHash.ToArray());

        using var ciphers = new SplitCiphers(initiator.Split(), responder.Split());
        AssertTransport(ciphers.Initiator.Sender, ciphers.Responder.Receiver);
        AssertTransport(ciphers.Responder.Sender, ciphers.Initiator.Receiver);
    }

    [Fact]
    public void Message_lengths_follow_the_xx_pattern()
    {
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic);
        using var responder = new HandshakeState(false, responderStatic);
        Assert.Equal(32 + 5, NoisePairs.Exchange(initiator, responder, new byte[5]).Length);            // e, plain payload
        Assert.Equal(32 + 48 + 5 + 16, NoisePairs.Exchange(responder, initiator, new byte[5]).Length);  // e, enc(s), enc(payload)
        Assert.Equal(48 + 5 + 16, NoisePairs.Exchange(initiator, responder, new byte[5]).Length);       // enc(s), enc(payload)
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Every_single_bit_flip_in_any_handshake_message_fails_the_handshake(int tamperedIndex)
    {
        var reference = RunFixedHandshake(tamperedIndex: null, bytePosition: 0);
        for (var position = 0; position < reference[tamperedIndex].Length; position++)
        {
            var exception = Record.Exception(() => RunFixedHandshake(tamperedIndex, position));
            Assert.True(exception is WireFormatException, $"message {tamperedIndex + 1}, byte {position}: {exception?.GetType().Name ?? "accepted"}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_truncated_or_extended_message_is_rejected(int index)
    {
        foreach (var delta in new[] { -1, 1 })
        {
            var (initiator, responder, initiatorStatic, responderStatic) = CreateFixed();
            using (initiatorStatic)
            using (responderStatic)
            using (initiator)
            using (responder)
            {
                var states = new[] { initiator, responder };
                for (var i = 0; i < index; i++)
                {
                    NoisePairs.Exchange(states[i % 2], states[(i + 1) % 2], [7, 7, 7]);
                }

                var writer = states[index % 2];
                var reader = states[(index + 1) % 2];
                var message = new byte[writer.GetMessageLength(3)];
                writer.WriteMessage([7, 7, 7], message);
                var altered = new byte[message.Length + delta];
                message.AsSpan(0, Math.Min(message.Length, altered.Length)).CopyTo(altered);
                Assert.ThrowsAny<WireFormatException>(() => reader.ReadMessage(altered, new byte[altered.Length]));
                Assert.Throws<InvalidOperationException>(() => reader.GetMessageLength(0));
            }
        }
    }

    [Fact]
    public void A_message_shorter_than_its_keys_is_a_format_error()
    {
        using var responderStatic = X25519KeyPair.Generate();
        using var responder = new HandshakeState(false, responderStatic);
        var exception = Assert.Throws<WireFormatException>(() => responder.GetPayloadLength(31));
        Assert.Contains("message 1", exception.Message);
        Assert.Throws<WireFormatException>(() => responder.ReadMessage(new byte[65536], new byte[65536]));
    }

    [Fact]
    public void Different_prologues_fail_authentication_on_message_2()
    {
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic, [1]);
        using var responder = new HandshakeState(false, responderStatic, [2]);
        NoisePairs.Exchange(initiator, responder, []);
        var message = new byte[responder.GetMessageLength(0)];
        responder.WriteMessage([], message);
        Assert.Throws<NoiseAuthenticationException>(() => initiator.ReadMessage(message, new byte[message.Length]));
    }

    [Fact]
    public void A_small_order_remote_ephemeral_is_rejected()
    {
        using var responderStatic = X25519KeyPair.Generate();
        using var responder = new HandshakeState(false, responderStatic);
        responder.ReadMessage(new byte[32], []); // e = 0, a point of small order
        var exception = Assert.Throws<WireFormatException>(() => responder.WriteMessage([], new byte[200]));
        Assert.Contains("small order", exception.Message);
        Assert.Throws<InvalidOperationException>(() => responder.GetMessageLength(0));
    }

    [Fact]
    public void Calls_out_of_turn_or_too_large_are_refused()
    {
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic);
        using var responder = new HandshakeState(false, responderStatic);
        Assert.Throws<InvalidOperationException>(() => initiator.GetPayloadLength(32));
        Assert.Throws<InvalidOperationException>(() => responder.GetMessageLength(0));
        Assert.Throws<InvalidOperationException>(() => initiator.Split());
        Assert.Equal(NoiseConstants.MaxMessageLength, initiator.GetMessageLength(NoiseConstants.MaxMessageLength - 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => initiator.GetMessageLength(NoiseConstants.MaxMessageLength - 31));
        Assert.Throws<ArgumentException>(() => initiator.WriteMessage([1], new byte[32]));

        NoisePairs.Exchange(initiator, responder, []);
        NoisePairs.Exchange(responder, initiator, []);
        NoisePairs.Exchange(initiator, responder, []);
        Assert.Throws<InvalidOperationException>(() => initiator.GetMessageLength(0));
        var pair = initiator.Split();
        pair.Sender.Dispose();
        pair.Receiver.Dispose();
        Assert.Throws<InvalidOperationException>(() => initiator.Split());
    }

    [Fact]
    public void A_failed_decryption_keeps_the_nonce_so_the_genuine_message_still_decrypts()
    {
        using var pairs = NoisePairs.Handshake();
        var ciphertext = new byte[10 + NoiseConstants.TagLength];
        pairs.Initiator.Sender.Encrypt(new byte[10], ciphertext);
        var tampered = (byte[])ciphertext.Clone();
        tampered[^1] ^= 1;
        var plaintext = new byte[10];
        var exception = Assert.Throws<NoiseAuthenticationException>(() => pairs.Responder.Receiver.Decrypt(tampered, plaintext));
        Assert.Contains("authentication", exception.Message);
        Assert.Equal(0UL, pairs.Responder.Receiver.Nonce);
        Assert.Equal(10, pairs.Responder.Receiver.Decrypt(ciphertext, plaintext));
        Assert.Equal(1UL, pairs.Responder.Receiver.Nonce);
        Assert.Throws<WireFormatException>(() => pairs.Responder.Receiver.Decrypt(new byte[15], plaintext));
    }

    [Fact]
    public void The_nonce_2_pow_64_minus_1_is_never_used()
    {
        using var pairs = NoisePairs.Handshake();
        var sender = pairs.Initiator.Sender;
        var receiver = pairs.Responder.Receiver;
        sender.SetNonce(ulong.MaxValue - 1);
        receiver.SetNonce(ulong.MaxValue - 1);
        var ciphertext = new byte[4 + NoiseConstants.TagLength];
        sender.Encrypt([1, 2, 3, 4], ciphertext);
        var plaintext = new byte[4];
        receiver.Decrypt(ciphertext, plaintext);
        Assert.Equal([1, 2, 3, 4], plaintext);
        Assert.Equal(ulong.MaxValue, sender.Nonce);

        Assert.Throws<InvalidOperationException>(() => sender.Encrypt([1], new byte[17]));
        Assert.Throws<InvalidOperationException>(() => receiver.Decrypt(ciphertext, plaintext));
    }

    [Fact]
    public void In_place_and_buffer_to_buffer_encryption_agree()
    {
        using var a = NoisePairs.Handshake();
        var plaintext = RandomNumberGenerator.GetBytes(NoiseConstants.MaxPlaintextLength);
        var separate = new byte[NoiseConstants.MaxMessageLength];
        a.Initiator.Sender.Encrypt(plaintext, separate);
        a.Initiator.Sender.SetNonce(0);
        var inPlace = new byte[NoiseConstants.MaxMessageLength];
        plaintext.CopyTo(inPlace, 0);
        Assert.Equal(NoiseConstants.MaxMessageLength, a.Initiator.Sender.EncryptInPlace(inPlace, plaintext.Length));
        Assert.Equal(separate, inPlace);

        Assert.Equal(plaintext.Length, a.Responder.Receiver.DecryptInPlace(inPlace));
        Assert.Equal(plaintext, inPlace.AsSpan(0, plaintext.Length).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Initiator.Sender.Encrypt(new byte[NoiseConstants.MaxPlaintextLength + 1], new byte[70000]));
    }

    [Fact]
    public void Disposed_keys_cannot_be_used()
    {
        var pairs = NoisePairs.Handshake();
        pairs.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pairs.Initiator.Sender.Encrypt([1], new byte[17]));
        Assert.False(pairs.Initiator.Sender.HasKey);
        var key = X25519KeyPair.Generate();
        key.Dispose();
        Assert.Throws<ObjectDisposedException>(() => key.PublicKey.ToArray());
    }

    [Fact]
    public void X25519_matches_rfc_7748_section_6_1()
    {
        using var alice = X25519KeyPair.FromPrivateKey(Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
        using var bob = X25519KeyPair.FromPrivateKey(Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
        Assert.Equal("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", Convert.ToHexStringLower(alice.PublicKey));
        Assert.Equal("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", Convert.ToHexStringLower(bob.PublicKey));
        var shared = new byte[32];
        alice.Agree(bob.PublicKey, shared);
        Assert.Equal("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", Convert.ToHexStringLower(shared));
        Assert.Throws<ArgumentException>(() => X25519KeyPair.FromPrivateKey(new byte[31]));
    }

    private static void AssertTransport(CipherState sender, CipherState receiver)
    {
        foreach (var length in new[] { 0, 1, 100, NoiseConstants.MaxPlaintextLength })
        {
            var plaintext = RandomNumberGenerator.GetBytes(length);
            var ciphertext = new byte[length + NoiseConstants.TagLength];
            sender.Encrypt(plaintext, ciphertext);
            var decrypted = new byte[length];
            Assert.Equal(length, receiver.Decrypt(ciphertext, decrypted));
            Assert.Equal(plaintext, decrypted);
        }
    }

    private static (HandshakeState Initiator, HandshakeState Responder, X25519KeyPair InitiatorStatic, X25519KeyPair ResponderStatic) CreateFixed()
    {
        var initiatorStatic = X25519KeyPair.FromPrivateKey(InitiatorStatic);
        var responderStatic = X25519KeyPair.FromPrivateKey(ResponderStatic);
        return (
            new HandshakeState(true, initiatorStatic, ephemeralKeyFactory: () => X25519KeyPair.FromPrivateKey(InitiatorEphemeral)),
            new HandshakeState(false, responderStatic, ephemeralKeyFactory: () => X25519KeyPair.FromPrivateKey(ResponderEphemeral)),
            initiatorStatic,
            responderStatic);
    }

    /// <summary>A deterministic handshake with payloads; flips one bit of message <paramref name="tamperedIndex"/>
    /// at <paramref name="bytePosition"/> (none when null). Returns the messages as sent.</summary>
    private static byte[][] RunFixedHandshake(int? tamperedIndex, int bytePosition)
    {
        var (initiator, responder, initiatorStatic, responderStatic) = CreateFixed();
        using (initiatorStatic)
        using (responderStatic)
        using (initiator)
        using (responder)
        {
            var states = new[] { initiator, responder };
            var messages = new byte[3][];
            for (var i = 0; i < 3; i++)
            {
                var writer = states[i % 2];
                var reader = states[(i + 1) % 2];
                byte[] payload = [(byte)i, 0xAA, 0xBB];
                var message = new byte[writer.GetMessageLength(payload.Length)];
                writer.WriteMessage(payload, message);
                messages[i] = message;
                if (i == tamperedIndex)
                {
                    message = (byte[])message.Clone();
                    message[bytePosition] ^= 0x01;
                }

                var received = new byte[reader.GetPayloadLength(message.Length)];
                reader.ReadMessage(message, received);
                if (i != 0 && !received.AsSpan().SequenceEqual(payload))
                {
                    throw new InvalidOperationException("an authenticated payload changed");
                }
            }

            return messages;
        }
    }
}
