namespace ToolNet.Fuzz;

/// <summary>A fuzz target: decodes <paramref name="input"/> and, when it decodes, checks that re-encoding round-trips.
/// It may throw <see cref="ToolNet.Protocol.WireFormatException"/> for bad input; any other exception is a finding.</summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>Every wire decoder's fuzz target, by the name used on the command line and as the corpus folder under fuzz/corpus.</summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new SortedDictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["varint"] = Targets.MultiformatsTargets.Varint,
        ["envelope"] = Targets.EnvelopeTarget.Run,
        ["multihash-cid"] = Targets.MultiformatsTargets.MultihashCid,
        ["multiaddr-binary"] = Targets.MultiaddrTargets.Binary,
        ["multiaddr-text"] = Targets.MultiaddrTargets.Text,
        ["noise-frame"] = Targets.NoiseTargets.Frame,
        ["noise-payload"] = Targets.NoiseTargets.Payload,
        ["noise-handshake-responder"] = Targets.NoiseHandshakeResponderTarget.Run,
        ["key-protobuf"] = Targets.KeyProtobufTarget.Run,
        ["peer-id"] = Targets.PeerIdTarget.Run,
        ["multistream-message"] = Targets.MultistreamTargets.Message,
        ["yamux-frame"] = Targets.YamuxTargets.Frame,
        ["yamux-session"] = Targets.YamuxTargets.Session,
        ["peer-record"] = Targets.PeerRecordTarget.Run,
        ["identify-message"] = Targets.IdentifyMessageTarget.Run,
        ["websocket-upgrade-request"] = Targets.WebSocketUpgradeTarget.Request,
    };

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>, treating the documented format exception as a clean rejection.</summary>
    public static bool Run(FuzzTarget target, ReadOnlySpan<byte> input)
    {
        try
        {
            target(input);
            return true;
        }
        catch (ToolNet.Protocol.WireFormatException)
        {
            return false;
        }
    }
}
