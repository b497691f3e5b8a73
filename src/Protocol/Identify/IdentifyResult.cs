using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Identify;

/// <summary>
/// What a peer told us about itself in an identify or push message, checked against the connection it came on.
/// Fields the message did not carry are null (or empty lists).
/// </summary>
public sealed record IdentifyResult
{
    /// <summary>The peer that sent the message: the connection's authenticated remote.</summary>
    public required PeerId Peer { get; init; }

    /// <summary>The peer's identity key, when sent; it is known to match <see cref="Peer"/>.</summary>
    public PublicKey? PublicKey { get; init; }

    /// <summary>The protocol family the peer speaks, when sent.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>The peer's implementation, when sent.</summary>
    public string? AgentVersion { get; init; }

    /// <summary>The unsigned listen addresses the peer sent (entries that are not valid multiaddrs are dropped).</summary>
    public IReadOnlyList<Multiaddr> ListenAddresses { get; init; } = [];

    /// <summary>Our address as the peer sees our connection, when sent and valid.</summary>
    public Multiaddr? ObservedAddress { get; init; }

    /// <summary>The protocols the peer accepts inbound streams for.</summary>
    public IReadOnlyList<string> Protocols { get; init; } = [];

    /// <summary>The peer's signed record, when sent and verified to be signed by <see cref="Peer"/>.</summary>
    public PeerRecord? SignedPeerRecord { get; init; }

    /// <summary>The envelope <see cref="SignedPeerRecord"/> came in, to pass on to others unchanged.</summary>
    public Envelope? SignedPeerRecordEnvelope { get; init; }

    /// <summary>
    /// The addresses to believe: those of the verified signed record when there is one (the spec: an implementation
    /// that supports signed envelopes "MUST use the data contained within it and ignore duplicated fields"),
    /// otherwise the unsigned listen addresses.
    /// </summary>
    public IReadOnlyList<Multiaddr> Addresses => SignedPeerRecord?.Addresses ?? ListenAddresses;

    /// <summary>
    /// Checks a received message against <paramref name="sender"/>, the connection's authenticated remote, and
    /// decodes its fields. A listen or observed address that is not a valid multiaddr is dropped; a signed peer record
    /// that does not verify, or speaks for another peer, is dropped (the listen addresses then stand); both are logged.
    /// </summary>
    /// <exception cref="IdentifyException">The message carries a public key that is malformed or is not the key of
    /// <paramref name="sender"/>: the whole message must be ignored.</exception>
    public static IdentifyResult FromMessage(IdentifyMessage message, PeerId sender, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(sender);
        logger ??= NullLogger.Instance;
        var publicKey = message.PublicKey is null ? null : DecodePublicKey(message.PublicKey, sender);
        var (envelope, record) = message.SignedPeerRecord is null ? default : ConsumeRecord(message.SignedPeerRecord, sender, logger);
        return new IdentifyResult
        {
            Peer = sender,
            PublicKey = publicKey,
            ProtocolVersion = message.ProtocolVersion,
            AgentVersion = message.AgentVersion,
            ListenAddresses = [.. message.ListenAddresses.Select(bytes => DecodeAddress(bytes, sender, "listen", logger)).OfType<Multiaddr>()],
            ObservedAddress = message.ObservedAddress is null ? null : DecodeAddress(message.ObservedAddress, sender, "observed", logger),
            Protocols = message.Protocols,
            SignedPeerRecord = record,
            SignedPeerRecordEnvelope = envelope,
        };
    }

    private static PublicKey DecodePublicKey(byte[] encoded, PeerId sender)
    {
        PublicKey key;
        try
        {
            key = PublicKey.FromProtobuf(encoded);
        }
        catch (WireFormatException ex)
        {
            throw new IdentifyException($"identify message from {sender} carries a malformed public key: {ex.Message}", ex);
        }

        return sender.Matches(key)
            ? key
            : throw new IdentifyException($"identify message from {sender} carries the public key of {PeerId.FromPublicKey(key)}; ignoring it");
    }

    private static (Envelope? Envelope, PeerRecord? Record) ConsumeRecord(byte[] encoded, PeerId sender, ILogger logger)
    {
        try
        {
            var (envelope, record) = PeerRecord.ConsumeEnvelope(encoded);
            if (record.PeerId.Equals(sender))
            {
                return (envelope, record);
            }

            IdentifyLog.ForeignPeerRecord(logger, sender, record.PeerId);
        }
        catch (Exception ex) when (ex is WireFormatException or RecordVerificationException)
        {
            IdentifyLog.UnverifiablePeerRecord(logger, sender, ex.Message);
        }

        return default;
    }

    private static Multiaddr? DecodeAddress(byte[] bytes, PeerId sender, string kind, ILogger logger)
    {
        if (Multiaddr.TryDecode(bytes, out var address))
        {
            return address;
        }

        IdentifyLog.UndecodableAddress(logger, sender, kind, bytes.Length);
        return null;
    }
}
