namespace ToolNet.Protocol.Peers;

/// <summary>
/// The usual lifetimes of peer addresses (the idea of go-libp2p's address TTLs; the values are ToolNet's).
/// </summary>
/// <remarks>
/// The host adds the address of a live connection (and the addresses a connected peer announces in identify) with
/// <see cref="ConnectedAddress"/>; when the last connection closes, <c>IPeerStore.MarkConnected(peer, false)</c> moves
/// them to <see cref="RecentlyConnected"/>, so a peer that went away is redialable for a while and then forgotten.
/// Addresses heard from third parties (the DHT, a rendezvous point) that nobody has tried yet get
/// <see cref="TemporaryAddress"/>.
/// </remarks>
public static class PeerStoreTtl
{
    /// <summary>Never expires: bootstrap peers and addresses configured by the user.</summary>
    public static readonly TimeSpan Permanent = TimeSpan.MaxValue;

    /// <summary>While connected: one year, far beyond any connection, so it never runs out while the host holds the
    /// connection, yet finite and distinct from <see cref="Permanent"/> so that a missed downgrade cannot pin an
    /// address forever.</summary>
    public static readonly TimeSpan ConnectedAddress = TimeSpan.FromDays(365);

    /// <summary>After the last connection closed: 15 minutes, long enough to reconnect after a network blip.</summary>
    public static readonly TimeSpan RecentlyConnected = TimeSpan.FromMinutes(15);

    /// <summary>An unverified address from a third party: 2 minutes, enough to try it once.</summary>
    public static readonly TimeSpan TemporaryAddress = TimeSpan.FromMinutes(2);
}
