using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Kademlia;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>kad-message</c>: the Kademlia message body decoder and the length-prefixed reader.</summary>
internal static class KadMessageTarget
{
    /// <summary>
    /// Decodes the input as one message body, whose canonical re-encoding must decode and encode to the same bytes
    /// again; then reads the input as a run of length-prefixed messages (as a stream carrying several requests), each
    /// of which must round-trip the same way. The input is rejected only when neither reading accepts it.
    /// </summary>
    [FuzzTarget("kad-message")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isBody = false;
        try
        {
            CheckRoundTrips(KadCodec.Decode(input));
            isBody = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var buffer = new ReadOnlySequence<byte>(input.ToArray());
            var count = 0;
            while (KadCodec.TryReadDelimited(ref buffer, out var message))
            {
                CheckRoundTrips(message);
                count++;
            }

            if (count == 0 || !buffer.IsEmpty)
            {
                throw new WireFormatException("not a whole run of length-prefixed kad messages");
            }
        }
        catch (WireFormatException) when (isBody)
        {
        }
    }

    private static void CheckRoundTrips(KadMessage message)
    {
        var canonical = KadCodec.ToBytes(message);
        var again = KadCodec.ToBytes(KadCodec.Decode(canonical));
        if (!again.AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("kad message did not round-trip");
        }
    }
}
