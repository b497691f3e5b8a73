using System.Buffers;
using System.Text;
using ToolNet.Fuzz;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>The noise-frame seeds were encrypted outside .NET (Python <c>cryptography</c>, key 0x00..0x1f, nonce =
/// 4 zero bytes + little-endian counter): the valid ones must decode, the broken ones must be rejected.</summary>
public class NoiseFuzzSeedTests
{
    [Theory]
    [InlineData("one-frame-hello", true)]
    [InlineData("two-frames", true)]
    [InlineData("empty-plaintext", true)]
    [InlineData("multistream-header", true)]
    [InlineData("incomplete-frame", true)]
    [InlineData("length-prefix-only", true)]
    [InlineData("tampered-ciphertext", false)]
    [InlineData("valid-then-tampered", false)]
    [InlineData("shorter-than-tag", false)]
    [InlineData("zero-length-message", false)]
    public void Noise_frame_seed_is_accepted_or_rejected_as_built(string seed, bool accepted)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "noise-frame", seed));
        Assert.Equal(accepted, FuzzTargets.Run(FuzzTargets.All["noise-frame"], bytes));
    }

    /// <summary>The noise-handshake-responder seeds: the DERIVED vector's initiator messages, and messages built with the
    /// vector's initiator keys around altered payloads (valid ones complete the handshake, the others fail cleanly).</summary>
    [Theory]
    [InlineData("valid-libp2p-handshake", true)]
    [InlineData("valid-then-multistream-frame", true)]
    [InlineData("valid-no-muxer-list", true)]
    [InlineData("valid-message-1-with-ignored-payload", true)]
    [InlineData("invalid-tampered-transport-frame", false)]
    [InlineData("invalid-no-common-muxer", false)]
    [InlineData("invalid-signature-over-other-static-key", false)]
    [InlineData("invalid-identity-key-of-another-peer", false)]
    [InlineData("invalid-garbage-payload", false)]
    [InlineData("invalid-message-1-only", false)]
    [InlineData("invalid-truncated-message-3", false)]
    [InlineData("invalid-tampered-message-3", false)]
    [InlineData("invalid-small-order-ephemeral", false)]
    [InlineData("invalid-empty", false)]
    public void Noise_handshake_responder_seed_is_accepted_or_rejected_as_built(string seed, bool accepted)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "noise-handshake-responder", seed));
        Assert.Equal(accepted, FuzzTargets.Run(FuzzTargets.All["noise-handshake-responder"], bytes));
    }

    [Fact]
    public void Externally_encrypted_frames_decrypt_to_their_plaintexts()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", "noise-frame", "two-frames"));
        using var receiver = new CipherState(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var input = new ReadOnlySequence<byte>(bytes);
        var plaintexts = new List<string>();
        var output = new ArrayBufferWriter<byte>();
        while (NoiseFrameCodec.TryReadFrame(ref input, receiver, output, out var length))
        {
            plaintexts.Add(Encoding.ASCII.GetString(output.WrittenSpan[^length..]));
        }

        Assert.Equal(["first frame", "second frame"], plaintexts);
    }
}
