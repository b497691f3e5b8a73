using System.Text;
using ToolNet.Protocol;
using ToolNet.Protocol.Peers;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>peer-id</c>: the binary and the text peer id decoders.</summary>
internal static class PeerIdTarget
{
    /// <summary>Decodes the input as a binary peer id (which must re-encode to exactly the input) and as UTF-8 text;
    /// every decoded id must survive both text forms and the binary form. The input is rejected only when neither
    /// decoder accepts it.</summary>
    [FuzzTarget("peer-id")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isBinaryPeerId = false;
        try
        {
            var fromBytes = PeerId.FromBytes(input);
            if (!fromBytes.ToBytes().AsSpan().SequenceEqual(input))
            {
                throw new InvalidOperationException("binary peer id did not round-trip");
            }

            CheckRoundTrips(fromBytes);
            isBinaryPeerId = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            CheckRoundTrips(PeerId.Parse(Encoding.UTF8.GetString(input)));
        }
        catch (WireFormatException) when (isBinaryPeerId)
        {
        }
    }

    private static void CheckRoundTrips(PeerId peerId)
    {
        if (PeerId.Parse(peerId.ToString()) != peerId || PeerId.Parse(peerId.ToCidString()) != peerId
            || PeerId.FromBytes(peerId.ToBytes()) != peerId)
        {
            throw new InvalidOperationException($"peer id {peerId} did not round-trip");
        }
    }
}
