using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Peers;

/// <summary>Peer ids and addresses for tests.</summary>
internal static class TestPeers
{
    /// <summary>A fresh Ed25519 (inline-key) peer id.</summary>
    public static PeerId NewPeer() => PeerId.FromPublicKey(Ed25519PrivateKey.Generate().GetPublicKey());

    /// <summary><paramref name="count"/> fresh peer ids.</summary>
    public static PeerId[] NewPeers(int count) => [.. Enumerable.Range(0, count).Select(_ => NewPeer())];

    /// <summary><c>/ip4/10.0.0.1/tcp/<paramref name="port"/></c>: distinct addresses by port.</summary>
    public static Multiaddr TcpAt(int port) => Multiaddr.Parse($"/ip4/10.0.0.1/tcp/{port}");
}
