using ToolNet.Protocol;
using ToolNet.Protocol.Records;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>peer-record</c>: the peer record decoder and the signed-envelope consumer built on it.</summary>
internal static class PeerRecordTarget
{
    /// <summary>
    /// Decodes the input as a bare record, whose canonical re-encoding must decode to the same record and encode
    /// identically again, and as a signed envelope holding a record, which must re-encode to exactly the input and
    /// carry a payload that decodes to the same record. A verification failure is as clean a rejection as a format
    /// error; the input is rejected only when neither reading accepts it.
    /// </summary>
    [FuzzTarget("peer-record")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isRecord = false;
        try
        {
            CheckRoundTrips(PeerRecord.FromProtobuf(input));
            isRecord = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var (envelope, record) = PeerRecord.ConsumeEnvelope(input);
            CheckRoundTrips(record);
            if (!record.Equals(PeerRecord.FromProtobuf(envelope.Payload))
                || !PeerRecord.ConsumeEnvelope(envelope.ToProtobuf()).Record.Equals(record))
            {
                throw new InvalidOperationException("peer record envelope did not round-trip");
            }
        }
        catch (RecordVerificationException) when (isRecord)
        {
        }
        catch (RecordVerificationException ex)
        {
            throw new WireFormatException($"not a verifiable peer record envelope: {ex.Message}", ex);
        }
        catch (WireFormatException) when (isRecord)
        {
        }
    }

    private static void CheckRoundTrips(PeerRecord record)
    {
        var canonical = record.ToProtobuf();
        var again = PeerRecord.FromProtobuf(canonical);
        if (!again.Equals(record) || !again.ToProtobuf().AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("peer record did not round-trip");
        }
    }
}
