using ToolNet.Protocol.Records;

namespace ToolNet.Fuzz.Targets;

/// <summary>Signed envelope decode; whatever decodes must re-encode to an envelope that decodes to the same
/// fields, and verification must answer (true or false) without throwing.</summary>
internal static class EnvelopeTarget
{
    [FuzzTarget("envelope")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var envelope = Envelope.Decode(input);
        var again = Envelope.Decode(envelope.ToProtobuf());
        if (!again.PublicKey.Equals(envelope.PublicKey)
            || !again.PayloadType.SequenceEqual(envelope.PayloadType)
            || !again.Payload.SequenceEqual(envelope.Payload)
            || !again.Signature.SequenceEqual(envelope.Signature))
        {
            throw new InvalidOperationException("envelope did not round-trip");
        }

        _ = envelope.Verify("libp2p-peer-record");
    }
}
