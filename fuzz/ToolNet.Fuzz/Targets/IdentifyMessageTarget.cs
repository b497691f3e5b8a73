using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Identify;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>identify-message</c>: the identify message body decoder and the length-prefixed reader.</summary>
internal static class IdentifyMessageTarget
{
    /// <summary>
    /// Decodes the input as one message body, whose canonical re-encoding must decode to the same fields and encode
    /// identically again; then reads the input as a run of length-prefixed messages merged as a stream reader merges
    /// them, and checks the merged result round-trips the same way. The input is rejected only when neither reading
    /// accepts it.
    /// </summary>
    [FuzzTarget("identify-message")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isBody = false;
        try
        {
            CheckRoundTrips(IdentifyCodec.Decode(input));
            isBody = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var buffer = new ReadOnlySequence<byte>(input.ToArray());
            IdentifyMessage? merged = null;
            while (IdentifyCodec.TryReadDelimited(ref buffer, merged, out var message))
            {
                merged = message;
            }

            if (merged is null || !buffer.IsEmpty)
            {
                throw new WireFormatException("not a whole run of length-prefixed identify messages");
            }

            CheckRoundTrips(merged);
        }
        catch (WireFormatException) when (isBody)
        {
        }
    }

    private static void CheckRoundTrips(IdentifyMessage message)
    {
        var canonical = IdentifyCodec.ToBytes(message);
        var again = IdentifyCodec.Decode(canonical);
        if (!again.HasSameFields(message) || !IdentifyCodec.ToBytes(again).AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("identify message did not round-trip");
        }
    }
}
