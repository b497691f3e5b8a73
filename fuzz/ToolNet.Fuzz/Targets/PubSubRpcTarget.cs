using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.PubSub;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>pubsub-rpc</c>: the pubsub RPC body decoder and the length-prefixed reader.</summary>
internal static class PubSubRpcTarget
{
    /// <summary>
    /// Decodes the input as one RPC body, whose canonical re-encoding must decode to the same fields and encode
    /// identically again (signature checks run on every message and must not throw); then reads the input as a run
    /// of length-prefixed RPCs, each checked the same way. Rejected only when neither reading accepts it.
    /// </summary>
    [FuzzTarget("pubsub-rpc")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isBody = false;
        try
        {
            CheckRoundTrips(PubSubRpcCodec.Decode(input));
            isBody = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var buffer = new ReadOnlySequence<byte>(input.ToArray());
            var any = false;
            while (PubSubRpcCodec.TryReadDelimited(ref buffer, null, out var rpc))
            {
                CheckRoundTrips(rpc);
                any = true;
            }

            if (!any || !buffer.IsEmpty)
            {
                throw new WireFormatException("not a whole run of length-prefixed pubsub RPCs");
            }
        }
        catch (WireFormatException) when (isBody)
        {
        }
    }

    private static void CheckRoundTrips(PubSubRpc rpc)
    {
        var canonical = PubSubRpcCodec.ToBytes(rpc);
        var again = PubSubRpcCodec.Decode(canonical);
        if (!again.HasSameFields(rpc) || !PubSubRpcCodec.ToBytes(again).AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("pubsub RPC did not round-trip");
        }

        foreach (var message in rpc.Messages)
        {
            _ = MessageSigning.Verify(message);
        }
    }
}
