namespace ToolNet.Protocol.Peers;

/// <summary>The bounds and tuning of a <see cref="PeerStore"/>. Remote peers supply most of what is stored, so every
/// collection is bounded.</summary>
public sealed record PeerStoreOptions
{
    /// <summary>The defaults.</summary>
    public static PeerStoreOptions Default { get; } = new();

    /// <summary>Peers kept at most (connected peers are kept beyond it, see <see cref="PeerStore"/>). Default 10,000.</summary>
    public int MaxPeers { get; init; } = 10_000;

    /// <summary>Addresses kept per peer; past it the longest-lived are kept. Default 64.</summary>
    public int MaxAddressesPerPeer { get; init; } = 64;

    /// <summary>Protocols kept per peer; later ones are dropped. Default 128.</summary>
    public int MaxProtocolsPerPeer { get; init; } = 128;

    /// <summary>The longest protocol id kept, in characters; longer ones are dropped. Default 256.</summary>
    public int MaxProtocolLength { get; init; } = 256;

    /// <summary>Metadata keys per peer. The keys are chosen by our own code, so exceeding this throws. Default 16.</summary>
    public int MaxMetadataEntriesPerPeer { get; init; } = 16;

    /// <summary>The longest metadata key, in characters; a longer one throws. Default 64.</summary>
    public int MaxMetadataKeyLength { get; init; } = 64;

    /// <summary>The longest metadata value, in characters; values come from remote peers (agent version, …), so longer
    /// ones are cut to this length. Default 1024.</summary>
    public int MaxMetadataValueLength { get; init; } = 1024;

    /// <summary>The largest signed peer record envelope kept, in bytes; larger records are refused. Default 8 KiB,
    /// room for dozens of addresses and an RSA key and signature.</summary>
    public int MaxPeerRecordLength { get; init; } = 8 * 1024;

    /// <summary>
    /// The weight α of a new round-trip sample in the latency average: <c>average = α·sample + (1 − α)·average</c>,
    /// the first sample taken as is. Default 0.1 (go-libp2p's choice): one sample moves the average by a tenth of the
    /// difference, so a single slow ping barely shows while a lasting change dominates after about twenty samples.
    /// </summary>
    public double LatencySmoothing { get; init; } = 0.1;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPeers, 1, nameof(MaxPeers));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAddressesPerPeer, 1, nameof(MaxAddressesPerPeer));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxProtocolsPerPeer, nameof(MaxProtocolsPerPeer));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxProtocolLength, 1, nameof(MaxProtocolLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxMetadataEntriesPerPeer, nameof(MaxMetadataEntriesPerPeer));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMetadataKeyLength, 1, nameof(MaxMetadataKeyLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxMetadataValueLength, nameof(MaxMetadataValueLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxPeerRecordLength, nameof(MaxPeerRecordLength));
        if (!(LatencySmoothing > 0 && LatencySmoothing <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LatencySmoothing), LatencySmoothing, "must be in (0, 1]");
        }
    }
}
