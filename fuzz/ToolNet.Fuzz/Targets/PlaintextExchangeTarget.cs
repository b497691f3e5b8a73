using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Plaintext;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>plaintext-exchange</c>: the <c>/plaintext/2.0.0</c> Exchange decoder, through the shared
/// length-prefixed framing over a segmented sequence.</summary>
internal static class PlaintextExchangeTarget
{
    /// <summary>Reads the input as framed messages split into 7-byte segments; every accepted exchange must
    /// re-encode to a message that decodes to the same peer and key.</summary>
    [FuzzTarget("plaintext-exchange")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var buffer = SegmentedSequence.Create(input.ToArray(), 7);
        var codec = PlaintextExchangeCodec.Instance;
        while (LengthPrefixedMessages.TryRead(ref buffer, codec, out var exchange))
        {
            var writer = new ArrayBufferWriter<byte>();
            LengthPrefixedMessages.Write(writer, exchange, codec);
            var again = new ReadOnlySequence<byte>(writer.WrittenMemory);
            if (!LengthPrefixedMessages.TryRead(ref again, codec, out var decoded)
                || decoded.PeerId != exchange.PeerId || !decoded.PublicKey.Equals(exchange.PublicKey) || !again.IsEmpty)
            {
                throw new InvalidOperationException("plaintext exchange did not round-trip");
            }
        }

        if (!buffer.IsEmpty)
        {
            throw new WireFormatException($"{buffer.Length} bytes of an incomplete message");
        }
    }
}
