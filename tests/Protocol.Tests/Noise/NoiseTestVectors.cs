using System.Text.Json;

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
