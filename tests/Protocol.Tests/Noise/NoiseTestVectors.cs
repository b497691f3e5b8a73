using System.Text.Json;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>One Noise_XX_25519_ChaChaPoly_SHA256 test vector in the cacophony/snow JSON layout.</summary>
public sealed record NoiseVector(
    string Name,
    byte[] InitiatorPrologue,
    byte[] InitiatorStatic,
    byte[] InitiatorEphemeral,
    byte[] ResponderPrologue,
    byte[] ResponderStatic,
    byte[] ResponderEphemeral,
    byte[]? HandshakeHash,
    IReadOnlyList<(byte[] Payload, byte[] Ciphertext)> Messages)
{
    public override string ToString() => Name;

    public static IReadOnlyList<NoiseVector> Load(string fileName)
    {
        var vectors = new List<NoiseVector>();
        var index = 0;
        foreach (var vector in VectorFile.Json("noise", fileName).GetProperty("vectors").EnumerateArray())
        {
            Assert.Equal("Noise_XX_25519_ChaChaPoly_SHA256", vector.GetProperty("protocol_name").GetString());
            var messages = vector.GetProperty("messages").EnumerateArray()
                .Select(m => (Hex(m, "payload"), Hex(m, "ciphertext")))
                .ToList();
            vectors.Add(new NoiseVector(
                $"{fileName}#{index++}",
                Hex(vector, "init_prologue"),
                Hex(vector, "init_static"),
                Hex(vector, "init_ephemeral"),
                Hex(vector, "resp_prologue"),
                Hex(vector, "resp_static"),
                Hex(vector, "resp_ephemeral"),
                vector.TryGetProperty("handshake_hash", out var hash) ? hash.Hex() : null,
                messages));
        }

        return vectors;
    }

    private static byte[] Hex(JsonElement element, string property) => element.GetProperty(property).Hex();
}

/// <summary>The DERIVED libp2p Noise handshake (Vectors/noise/PROVENANCE.md): both identities, the X25519 statics and
/// ephemerals, and the four wire frames (messages 1 to 3, then the responder's first transport message).</summary>
internal sealed class Libp2pHandshakeVector
{
    public const string Muxer = "/yamux/1.0.0";

    private Libp2pHandshakeVector(JsonElement vector)
    {
        var keys = vector.GetProperty("keys");
        Frames = [.. vector.GetProperty("wire_frames_hex").EnumerateArray().Select(frame => frame.Hex())];
        InitiatorIdentity = PrivateKey.FromProtobuf(keys.GetProperty("initiator_identity_private_key_protobuf_hex").Hex());
        ResponderIdentity = Ed25519PrivateKey.FromSeed(keys.GetProperty("responder_identity_ed25519_seed_hex").Hex());
        InitiatorPeer = PeerId.Parse(keys.GetProperty("initiator_peer_id").GetString()!);
        ResponderPeer = PeerId.Parse(keys.GetProperty("responder_peer_id").GetString()!);
        InitiatorStatic = keys.GetProperty("init_static").Hex();
        InitiatorEphemeral = keys.GetProperty("init_ephemeral").Hex();
        ResponderStatic = keys.GetProperty("resp_static").Hex();
        ResponderEphemeral = keys.GetProperty("resp_ephemeral").Hex();
        Assert.Equal(ResponderPeer, PeerId.FromPublicKey(ResponderIdentity.GetPublicKey()));
        Assert.Equal(keys.GetProperty("responder_identity_public_key_protobuf_hex").Hex(), ResponderIdentity.GetPublicKey().ToProtobuf());
    }

    /// <summary>Messages 1, 2 and 3 and the responder's first transport frame, each with its length prefix.</summary>
    public IReadOnlyList<byte[]> Frames { get; }

    /// <summary>The plaintext of <c>Frames[3]</c>: the multistream-select header.</summary>
    public static byte[] FirstTransportPlaintext => [19, .. "/multistream/1.0.0\n"u8];

    public PrivateKey InitiatorIdentity { get; }

    public PrivateKey ResponderIdentity { get; }

    public PeerId InitiatorPeer { get; }

    public PeerId ResponderPeer { get; }

    public byte[] InitiatorStatic { get; }

    public byte[] InitiatorEphemeral { get; }

    public byte[] ResponderStatic { get; }

    public byte[] ResponderEphemeral { get; }

    public static Libp2pHandshakeVector Load() => new(VectorFile.Json("noise", "libp2p-noise-xx-handshake-derived.json"));

    /// <summary>The vector's initiator: its identity, static and ephemeral keys, announcing <see cref="Muxer"/>.</summary>
    public NoiseSecurity CreateInitiator(ILogger logger) =>
        new(InitiatorIdentity, [Muxer], logger, X25519KeyPair.FromPrivateKey(InitiatorStatic), () => X25519KeyPair.FromPrivateKey(InitiatorEphemeral));

    /// <summary>The vector's responder, announcing <see cref="Muxer"/>.</summary>
    public NoiseSecurity CreateResponder(ILogger logger) =>
        new(ResponderIdentity, [Muxer], logger, X25519KeyPair.FromPrivateKey(ResponderStatic), () => X25519KeyPair.FromPrivateKey(ResponderEphemeral));
}
