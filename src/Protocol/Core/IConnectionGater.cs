using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>
/// Decides whether the host may make or keep a connection, at the three points where it learns something new: before
/// dialling, when a transport accepts an inbound connection (only the remote address is known), and after the
/// security handshake (the remote peer is authenticated). The host logs each refusal with its
/// <see cref="GateDecision.Reason"/> and closes the connection. Implementations must be thread-safe and fast: they run
/// on every connection attempt.
/// </summary>
public interface IConnectionGater
{
    /// <summary>Before dialling <paramref name="address"/>, of <paramref name="peer"/> when the dial is for a known
    /// peer. The dialer calls it again for each address a DNS name resolves to.</summary>
    GateDecision AllowDial(PeerId? peer, Multiaddr address);

    /// <summary>When a transport has accepted a connection from <paramref name="remoteAddress"/>, before any handshake.</summary>
    GateDecision AllowAccept(Multiaddr remoteAddress);

    /// <summary>After the security handshake has authenticated <paramref name="peer"/>, in either direction.</summary>
    GateDecision AllowSecured(Direction direction, PeerId peer, Multiaddr remoteAddress);
}
