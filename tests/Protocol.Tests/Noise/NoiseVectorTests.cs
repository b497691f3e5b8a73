using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>Replays the cacophony and snow Noise_XX_25519_ChaChaPoly_SHA256 vectors: every handshake message, every
/// transport message and the handshake hash must match byte for byte, in both directions.</summary>
public class NoiseVectorTests
{
    public static TheoryData<string> VectorFiles() => new()
    {
        "cacophony_Noise_XX_25519_ChaChaPoly_SHA256.json",
        "snow_Noise_XX_25519_ChaChaPoly_SHA256.json",
    };

    [Theory]
    [MemberData(nameof(VectorFiles))]
    public void Every_vector_reproduces_every_message(string fileName)
    {
        var vectors = NoiseVector.Load(fileName);
        Assert.NotEmpty(vectors);
        foreach (var vector in vectors)
        {
            Replay(vector);
        }
    }

    [Fact]
    public void Cacophony_vector_has_a_handshake_hash_and_it_is_checked()
    {
        var vector = Assert.Single(NoiseVector.Load("cacophony_Noise_XX_25519_ChaChaPoly_SHA256.json"));
        Assert.NotNull(vector.HandshakeHash);
        Assert.True(vector.Messages.Count > 3, "the vector must include transport messages");
    }

    private static void Replay(NoiseVector vector)
    {
        using var initiatorStatic = X25519KeyPair.FromPrivateKey(vector.InitiatorStatic);
        using var responderStatic = X25519KeyPair.FromPrivateKey(vector.ResponderStatic);
        using var initiator = new HandshakeState(true, initiatorStatic, vector.InitiatorPrologue, () => X25519KeyPair.FromPrivateKey(vector.InitiatorEphemeral));
        using var responder = new HandshakeState(false, responderStatic, vector.ResponderPrologue, () => X25519KeyPair.FromPrivateKey(vector.ResponderEphemeral));

        for (var i = 0; i < 3; i++)
        {
            var (payload, expected) = vector.Messages[i];
            var (writer, reader) = i % 2 == 0 ? (initiator, responder) : (responder, initiator);
            var message = new byte[writer.GetMessageLength(payload.Length)];
            Assert.Equal(message.Length, writer.WriteMessage(payload, message));
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(message));

            var received = new byte[reader.GetPayloadLength(message.Length)];
            Assert.Equal(received.Length, reader.ReadMessage(message, received));
            Assert.Equal(payload, received);
        }

        Assert.True(initiator.IsCompleted && responder.IsCompleted);
        Assert.Equal(initiatorStatic.PublicKey.ToArray(), responder.RemoteStaticPublicKey.ToArray());
        Assert.Equal(responderStatic.PublicKey.ToArray(), initiator.RemoteStaticPublicKey.ToArray());
        Assert.Equal(initiator.HandshakeHash.ToArray(), responder.HandshakeHash.ToArray());
        if (vector.HandshakeHash is { } hash)
        {
            Assert.Equal(Convert.ToHexStringLower(hash), Convert.ToHexStringLower(initiator.HandshakeHash));
        }

        using var ciphers = new SplitCiphers(initiator.Split(), responder.Split());
        for (var i = 3; i < vector.Messages.Count; i++)
        {
            var (payload, expected) = vector.Messages[i];
            var (sender, receiver) = i % 2 == 0
                ? (ciphers.Initiator.Sender, ciphers.Responder.Receiver)
                : (ciphers.Responder.Sender, ciphers.Initiator.Receiver);
            var ciphertext = new byte[payload.Length + NoiseConstants.TagLength];
            Assert.Equal(ciphertext.Length, sender.Encrypt(payload, ciphertext));
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(ciphertext));

            var plaintext = new byte[payload.Length];
            Assert.Equal(payload.Length, receiver.Decrypt(ciphertext, plaintext));
            Assert.Equal(payload, plaintext);
        }
    }
}
