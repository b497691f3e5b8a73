namespace ToolNet.Protocol.Identify;

/// <summary>
/// The identify message (libp2p/specs <c>identify/README.md</c>, "The Identify Message") as it travels, every field
/// optional. Byte fields stay raw here (a key protobuf, binary multiaddrs, a signed envelope): the codec only frames
/// and bounds them, and <see cref="IdentifyResult"/> is what a checked message becomes.
/// <code>
/// message Identify {
///   optional string protocolVersion = 5;
///   optional string agentVersion = 6;
///   optional bytes publicKey = 1;
///   repeated bytes listenAddrs = 2;
///   optional bytes observedAddr = 4;
///   repeated string protocols = 3;
///   optional bytes signedPeerRecord = 8;
/// }
/// </code>
/// A null field is absent (proto2 presence); a push may carry only the fields that changed. Repeated fields cannot
/// say "absent" on the wire, so an empty list is both "none" and "not sent".
/// </summary>
public sealed class IdentifyMessage
{
    /// <summary>The family of protocols the peer speaks, for example <c>ipfs/0.1.0</c>.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>The implementation, usually <c>name/version</c>.</summary>
    public string? AgentVersion { get; init; }

    /// <summary>The sender's identity key as a libp2p <c>PublicKey</c> protobuf.</summary>
    public byte[]? PublicKey { get; init; }

    /// <summary>The addresses the sender listens on, binary multiaddrs.</summary>
    public IReadOnlyList<byte[]> ListenAddresses { get; init; } = [];

    /// <summary>The address the sender sees the receiver's connection come from, a binary multiaddr.</summary>
    public byte[]? ObservedAddress { get; init; }

    /// <summary>The protocols the sender accepts inbound streams for.</summary>
    public IReadOnlyList<string> Protocols { get; init; } = [];

    /// <summary>A signed envelope holding the sender's peer record (RFC 0002, RFC 0003).</summary>
    public byte[]? SignedPeerRecord { get; init; }

    /// <summary>Whether both messages have the same fields, present or absent alike, and the same values.</summary>
    public bool HasSameFields(IdentifyMessage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ProtocolVersion == other.ProtocolVersion
            && AgentVersion == other.AgentVersion
            && SameOptionalBytes(PublicKey, other.PublicKey)
            && ListenAddresses.Count == other.ListenAddresses.Count
            && ListenAddresses.Zip(other.ListenAddresses).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second))
            && SameOptionalBytes(ObservedAddress, other.ObservedAddress)
            && Protocols.SequenceEqual(other.Protocols, StringComparer.Ordinal)
            && SameOptionalBytes(SignedPeerRecord, other.SignedPeerRecord);
    }

    private static bool SameOptionalBytes(byte[]? a, byte[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
