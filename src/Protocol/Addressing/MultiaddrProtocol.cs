using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace ToolNet.Protocol.Addressing;

/// <summary>How a protocol's value is laid out in the binary form of a multiaddr.</summary>
public enum MultiaddrValueLayout
{
    /// <summary>The protocol carries no value (<c>/tls</c>, <c>/p2p-circuit</c>).</summary>
    None,

    /// <summary>The value has a fixed size, <see cref="MultiaddrProtocol.FixedValueLength"/> bytes (<c>/ip4</c>, <c>/tcp</c>).</summary>
    Fixed,

    /// <summary>The value is preceded by its length as an unsigned varint (<c>/dns</c>, <c>/p2p</c>).</summary>
    LengthPrefixed,
}

/// <summary>
/// One row of the multiaddr protocol table (multiformats/multiaddr <c>protocols.csv</c>): its multicodec code, its
/// text name, and how its value is encoded. The instances are the static properties of this class; every row of
/// <c>protocols.csv</c> is present.
/// </summary>
public sealed class MultiaddrProtocol
{
    private MultiaddrProtocol(int code, string name, MultiaddrValueLayout layout, int fixedValueLength, MultiaddrValueCodec? codec, bool isPath = false)
    {
        Code = code;
        Name = name;
        Layout = layout;
        FixedValueLength = fixedValueLength;
        Codec = codec;
        IsPath = isPath;
    }

    /// <summary>The protocol's multicodec code, written as an unsigned varint in the binary form.</summary>
    public int Code { get; }

    /// <summary>The protocol's name in the text form.</summary>
    public string Name { get; }

    /// <summary>How the value is laid out in the binary form.</summary>
    public MultiaddrValueLayout Layout { get; }

    /// <summary>The value's size in bytes when <see cref="Layout"/> is <see cref="MultiaddrValueLayout.Fixed"/>, otherwise 0.</summary>
    public int FixedValueLength { get; }

    /// <summary>True when the protocol carries a value.</summary>
    public bool HasValue => Layout != MultiaddrValueLayout.None;

    /// <summary>True for a path protocol (<c>/unix</c>): in the text form its value is the whole rest of the string,
    /// slashes included, so it can only come last.</summary>
    public bool IsPath { get; }

    /// <summary>True when the value is a 16-bit port (<c>tcp</c>, <c>udp</c>, <c>dccp</c>, <c>sctp</c>).</summary>
    public bool IsPort => Codec is UnsignedIntegerCodec { ByteLength: 2 };

    internal MultiaddrValueCodec? Codec { get; }

    /// <summary><c>/ip4/192.0.2.1</c>: four bytes, dotted-quad text.</summary>
    public static MultiaddrProtocol Ip4 { get; } = new(4, "ip4", MultiaddrValueLayout.Fixed, 4, IPv4Codec.Instance);

    /// <summary><c>/tcp/443</c>: a big-endian 16-bit port.</summary>
    public static MultiaddrProtocol Tcp { get; } = new(6, "tcp", MultiaddrValueLayout.Fixed, 2, UnsignedIntegerCodec.Port);

    /// <summary><c>/dccp/port</c>.</summary>
    public static MultiaddrProtocol Dccp { get; } = new(33, "dccp", MultiaddrValueLayout.Fixed, 2, UnsignedIntegerCodec.Port);

    /// <summary><c>/ip6/2001:db8::1</c>: sixteen bytes; text as RFC 5952 (<c>::</c> compression, lowercase).</summary>
    public static MultiaddrProtocol Ip6 { get; } = new(41, "ip6", MultiaddrValueLayout.Fixed, 16, IPv6Codec.Instance);

    /// <summary><c>/ip6zone/eth0</c>: the RFC 4007 zone of the <c>/ip6</c> that follows.</summary>
    public static MultiaddrProtocol Ip6Zone { get; } = new(42, "ip6zone", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/ipcidr/24</c>: a prefix length as one byte.</summary>
    public static MultiaddrProtocol IpCidr { get; } = new(43, "ipcidr", MultiaddrValueLayout.Fixed, 1, UnsignedIntegerCodec.Byte);

    /// <summary><c>/dns/example.com</c>: a name to resolve to IPv4 or IPv6 addresses.</summary>
    public static MultiaddrProtocol Dns { get; } = new(53, "dns", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/dns4/example.com</c>: a name to resolve to IPv4 addresses only.</summary>
    public static MultiaddrProtocol Dns4 { get; } = new(54, "dns4", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/dns6/example.com</c>: a name to resolve to IPv6 addresses only.</summary>
    public static MultiaddrProtocol Dns6 { get; } = new(55, "dns6", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/dnsaddr/example.com</c>: a name whose <c>_dnsaddr</c> TXT records hold multiaddrs.</summary>
    public static MultiaddrProtocol DnsAddr { get; } = new(56, "dnsaddr", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/sctp/port</c>.</summary>
    public static MultiaddrProtocol Sctp { get; } = new(132, "sctp", MultiaddrValueLayout.Fixed, 2, UnsignedIntegerCodec.Port);

    /// <summary><c>/udp/4001</c>: a big-endian 16-bit port.</summary>
    public static MultiaddrProtocol Udp { get; } = new(273, "udp", MultiaddrValueLayout.Fixed, 2, UnsignedIntegerCodec.Port);

    /// <summary><c>/p2p-webrtc-star</c> (deprecated).</summary>
    public static MultiaddrProtocol P2pWebRtcStar { get; } = new(275, "p2p-webrtc-star", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/p2p-webrtc-direct</c> (deprecated).</summary>
    public static MultiaddrProtocol P2pWebRtcDirect { get; } = new(276, "p2p-webrtc-direct", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/p2p-stardust</c> (deprecated).</summary>
    public static MultiaddrProtocol P2pStardust { get; } = new(277, "p2p-stardust", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/webrtc-direct</c>.</summary>
    public static MultiaddrProtocol WebRtcDirect { get; } = new(280, "webrtc-direct", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/webrtc</c>.</summary>
    public static MultiaddrProtocol WebRtc { get; } = new(281, "webrtc", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/p2p-circuit</c>: the address reaches its peer through the relay named before it.</summary>
    public static MultiaddrProtocol P2pCircuit { get; } = new(290, "p2p-circuit", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/udt</c>.</summary>
    public static MultiaddrProtocol Udt { get; } = new(301, "udt", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/utp</c>.</summary>
    public static MultiaddrProtocol Utp { get; } = new(302, "utp", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/unix/path/to/socket</c>: a path protocol; the binary value is the UTF-8 path with its leading <c>/</c>.</summary>
    public static MultiaddrProtocol Unix { get; } = new(400, "unix", MultiaddrValueLayout.LengthPrefixed, 0, UnixPathCodec.Instance, isPath: true);

    /// <summary><c>/p2p/12D3KooW…</c>: a peer id, binary as its multihash. The text <c>/ipfs/</c> is accepted as an alias.</summary>
    public static MultiaddrProtocol P2p { get; } = new(421, "p2p", MultiaddrValueLayout.LengthPrefixed, 0, PeerIdCodec.Instance);

    /// <summary><c>/https</c> (deprecated alias for <c>/tls/http</c>).</summary>
    public static MultiaddrProtocol Https { get; } = new(443, "https", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/onion/host:port</c>: a Tor v2 onion service, 10 host bytes and a 16-bit port.</summary>
    public static MultiaddrProtocol Onion { get; } = new(444, "onion", MultiaddrValueLayout.Fixed, 12, OnionCodec.Version2);

    /// <summary><c>/onion3/host:port</c>: a Tor v3 onion service, 35 host bytes and a 16-bit port.</summary>
    public static MultiaddrProtocol Onion3 { get; } = new(445, "onion3", MultiaddrValueLayout.Fixed, 37, OnionCodec.Version3);

    /// <summary><c>/garlic64/…</c>: an I2P destination in I2P's base64.</summary>
    public static MultiaddrProtocol Garlic64 { get; } = new(446, "garlic64", MultiaddrValueLayout.LengthPrefixed, 0, Garlic64Codec.Instance);

    /// <summary><c>/garlic32/…</c>: an I2P destination hash in base32.</summary>
    public static MultiaddrProtocol Garlic32 { get; } = new(447, "garlic32", MultiaddrValueLayout.LengthPrefixed, 0, Garlic32Codec.Instance);

    /// <summary><c>/tls</c>.</summary>
    public static MultiaddrProtocol Tls { get; } = new(448, "tls", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/sni/example.com</c>: the TLS server name (RFC 6066 §3).</summary>
    public static MultiaddrProtocol Sni { get; } = new(449, "sni", MultiaddrValueLayout.LengthPrefixed, 0, NameCodec.Instance);

    /// <summary><c>/noise</c>.</summary>
    public static MultiaddrProtocol Noise { get; } = new(454, "noise", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/quic</c> (draft-29 QUIC).</summary>
    public static MultiaddrProtocol Quic { get; } = new(460, "quic", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/quic-v1</c> (RFC 9000 QUIC).</summary>
    public static MultiaddrProtocol QuicV1 { get; } = new(461, "quic-v1", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/webtransport</c>.</summary>
    public static MultiaddrProtocol WebTransport { get; } = new(465, "webtransport", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/certhash/u…</c>: a multihash of a certificate; text is multibase (printed as base64url).</summary>
    public static MultiaddrProtocol CertHash { get; } = new(466, "certhash", MultiaddrValueLayout.LengthPrefixed, 0, CertHashCodec.Instance);

    /// <summary><c>/ws</c>.</summary>
    public static MultiaddrProtocol Ws { get; } = new(477, "ws", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/wss</c> (deprecated alias for <c>/tls/ws</c>).</summary>
    public static MultiaddrProtocol Wss { get; } = new(478, "wss", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/p2p-websocket-star</c> (deprecated).</summary>
    public static MultiaddrProtocol P2pWebSocketStar { get; } = new(479, "p2p-websocket-star", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/http</c>.</summary>
    public static MultiaddrProtocol Http { get; } = new(480, "http", MultiaddrValueLayout.None, 0, null);

    /// <summary><c>/http-path/a%2Fb</c>: an HTTP path, percent-encoded as one URI path segment in the text form.</summary>
    public static MultiaddrProtocol HttpPath { get; } = new(481, "http-path", MultiaddrValueLayout.LengthPrefixed, 0, PercentEncodedCodec.Instance);

    /// <summary><c>/memory/42</c>: an in-process transport address, a big-endian 64-bit number.</summary>
    /// <remarks>protocols.csv lists the size as "V", but go-multiaddr and rust-multiaddr both encode a fixed
    /// 8-byte value with no length prefix; ToolNet follows the implementations for wire compatibility.</remarks>
    public static MultiaddrProtocol Memory { get; } = new(777, "memory", MultiaddrValueLayout.Fixed, 8, UnsignedIntegerCodec.UInt64);

    /// <summary>Every protocol ToolNet knows, in code order.</summary>
    public static IReadOnlyList<MultiaddrProtocol> All { get; } = new[]
    {
        Ip4, Tcp, Dccp, Ip6, Ip6Zone, IpCidr, Dns, Dns4, Dns6, DnsAddr, Sctp, Udp, P2pWebRtcStar, P2pWebRtcDirect,
        P2pStardust, WebRtcDirect, WebRtc, P2pCircuit, Udt, Utp, Unix, P2p, Https, Onion, Onion3, Garlic64, Garlic32,
        Tls, Sni, Noise, Quic, QuicV1, WebTransport, CertHash, Ws, Wss, P2pWebSocketStar, Http, HttpPath, Memory,
    }.AsReadOnly();

    private static readonly FrozenDictionary<int, MultiaddrProtocol> ByCode = All.ToFrozenDictionary(p => p.Code);

    // "ipfs" is the old name of p2p (protocols.csv: "backwards compatibility; equivalent to /p2p"): read, never written.
    private static readonly FrozenDictionary<string, MultiaddrProtocol> ByName =
        All.Select(p => KeyValuePair.Create(p.Name, p)).Append(KeyValuePair.Create("ipfs", P2p)).ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly FrozenDictionary<string, MultiaddrProtocol>.AlternateLookup<ReadOnlySpan<char>> ByNameSpan =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Finds the protocol with multicodec <paramref name="code"/>.</summary>
    public static bool TryGetByCode(ulong code, [NotNullWhen(true)] out MultiaddrProtocol? protocol)
    {
        if (code <= int.MaxValue && ByCode.TryGetValue((int)code, out protocol))
        {
            return true;
        }

        protocol = null;
        return false;
    }

    /// <summary>Finds the protocol named <paramref name="name"/> in the text form (case-sensitive; <c>ipfs</c> finds <see cref="P2p"/>).</summary>
    public static bool TryGetByName(ReadOnlySpan<char> name, [NotNullWhen(true)] out MultiaddrProtocol? protocol) =>
        ByNameSpan.TryGetValue(name, out protocol);

    /// <summary>The protocol's name.</summary>
    public override string ToString() => Name;
}
