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
