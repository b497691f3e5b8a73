using System.Buffers;
using System.Net;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>The Multiaddr API: composition, lookups, the transport helpers, equality, bounds and error reporting.</summary>
public class MultiaddrTests
{
    private const string Relay = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";
    private const string Target = "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV";
    private static readonly string RelayedText = $"/ip4/198.51.100.7/tcp/4001/p2p/{Relay}/p2p-circuit/p2p/{Target}";

    [Fact]
    public void Encapsulate_appends_and_decapsulate_removes_the_last_occurrence_and_what_follows()
    {
        var tcp = Multiaddr.Parse("/ip4/1.2.3.4/tcp/80");
        var ws = tcp.Encapsulate(Multiaddr.Parse("/ws"));
        Assert.Equal("/ip4/1.2.3.4/tcp/80/ws", ws.ToString());
        Assert.Equal(Convert.FromHexString("040102030406005" + "0dd03"), ws.ToBytes());
        Assert.Equal("/ip4/1.2.3.4", ws.Decapsulate(Multiaddr.Parse("/tcp/80")).ToString());
        Assert.Equal("/ip4/1.2.3.4/tcp/80/ws/tls", ws.Encapsulate(MultiaddrComponent.Create(MultiaddrProtocol.Tls)).ToString());

        var relayed = Multiaddr.Parse(RelayedText);
        Assert.Equal($"/ip4/198.51.100.7/tcp/4001/p2p/{Relay}", relayed.Decapsulate(Multiaddr.Parse("/p2p-circuit")).ToString());
        Assert.Equal($"/ip4/198.51.100.7/tcp/4001/p2p/{Relay}/p2p-circuit", relayed.Decapsulate(MultiaddrProtocol.P2p).ToString());
        Assert.Equal("/ip4/198.51.100.7", relayed.Decapsulate(MultiaddrProtocol.Tcp).ToString());
    }

    [Fact]
    public void Decapsulate_matches_whole_components_only()
    {
        var address = Multiaddr.Parse("/ip4/1.2.3.4/tcp/8080");
        Assert.Same(address, address.Decapsulate(Multiaddr.Parse("/tcp/80")));
        Assert.Same(address, address.Decapsulate(MultiaddrProtocol.Udp));
        Assert.Same(address, address.Decapsulate(Multiaddr.Empty));
        Assert.Same(address, address.Encapsulate(Multiaddr.Empty));
        Assert.Same(address, Multiaddr.Empty.Encapsulate(address));
        Assert.Same(Multiaddr.Empty, address.Decapsulate(address));
        Assert.Same(Multiaddr.Empty, address.Decapsulate(MultiaddrProtocol.Ip4));
    }

    [Fact]
    public void The_empty_multiaddr_has_no_components_and_empty_forms()
    {
        Assert.True(Multiaddr.Empty.IsEmpty);
        Assert.Empty(Multiaddr.Empty.Components);
        Assert.Equal("", Multiaddr.Empty.ToString());
        Assert.Empty(Multiaddr.Empty.ToBytes());
        Assert.Same(Multiaddr.Empty, Multiaddr.Create());
        Assert.Throws<WireFormatException>(() => Multiaddr.Decode([]));
    }

    [Fact]
    public void Peer_id_is_read_from_the_trailing_p2p_component_only()
    {
        var relayed = Multiaddr.Parse(RelayedText);
        Assert.True(relayed.TryGetPeerId(out var peerId));
        Assert.Equal(Convert.FromHexString("0024080112202d3de6d16ae87f7a933fe1552162a2d3f04951e90e8051e4ee2c18f002dd0fb4"), peerId.ToBytes());
        Assert.Equal(PeerId.Parse(Target), peerId);
        Assert.True(relayed.IsRelayed);
        Assert.Equal($"/ip4/198.51.100.7/tcp/4001/p2p/{Relay}/p2p-circuit", relayed.WithoutPeerId().ToString());

        var toRelay = relayed.WithoutPeerId();
        Assert.False(toRelay.TryGetPeerId(out var none));
        Assert.Null(none);
        Assert.Same(toRelay, toRelay.WithoutPeerId());
        Assert.Equal(relayed, toRelay.WithPeerId(peerId));
        Assert.Same(relayed, relayed.WithPeerId(peerId));
        Assert.Throws<ArgumentException>(() => relayed.WithPeerId(PeerId.Parse(Relay)));

        var direct = Multiaddr.Parse($"/ip4/198.51.100.7/tcp/4001/p2p/{Relay}");
        Assert.False(direct.IsRelayed);
        Assert.True(direct.TryGetPeerId(out var relayId));
        Assert.Equal(Convert.FromHexString("1220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b"), relayId.ToBytes());
        Assert.Equal("/ip4/198.51.100.7/tcp/4001/p2p/" + Target, direct.WithoutPeerId().WithPeerId(peerId).ToString());
    }

    [Fact]
    public void Components_can_be_found_by_protocol()
    {
        var relayed = Multiaddr.Parse(RelayedText);
        Assert.Equal(Relay, relayed.FindFirst(MultiaddrProtocol.P2p)!.ValueText);
        Assert.Equal(Target, relayed.FindLast(MultiaddrProtocol.P2p)!.ValueText);
        Assert.Equal("4001", relayed.FindFirst(MultiaddrProtocol.Tcp)!.ValueText);
        Assert.Null(relayed.FindFirst(MultiaddrProtocol.Udp));
        Assert.Null(relayed.FindLast(MultiaddrProtocol.Ip6));
        Assert.True(relayed.Contains(MultiaddrProtocol.Ip4));
        Assert.False(relayed.Contains(MultiaddrProtocol.Ws));
        Assert.Equal(["ip4", "tcp", "p2p", "p2p-circuit", "p2p"], relayed.Components.Select(c => c.Protocol.Name));
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/4001", "127.0.0.1:4001", "")]
    [InlineData("/ip4/127.0.0.1/tcp/4001/p2p/" + Target, "127.0.0.1:4001", "/p2p/" + Target)]
    [InlineData("/ip6/::1/tcp/443/tls/ws", "[::1]:443", "/tls/ws")]
    [InlineData("/ip6/::ffff:192.0.2.1/tcp/0", "[::ffff:192.0.2.1]:0", "")]
    [InlineData("/ip6zone/3/ip6/fe80::1/tcp/65535", "[fe80::1%3]:65535", "")]
    public void Tcp_endpoints_are_read_from_the_front(string text, string endPoint, string remainder)
    {
        Assert.True(Multiaddr.Parse(text).TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var actual, out var rest));
        Assert.Equal(IPEndPoint.Parse(endPoint), actual);
        Assert.Equal(remainder, rest.ToString());
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/udp/4001")]
    [InlineData("/ip4/127.0.0.1")]
    [InlineData("/dns4/example.com/tcp/443")]
    [InlineData("/tcp/443/ip4/127.0.0.1")]
    [InlineData("/ip6zone/eth0/ip6/fe80::1/tcp/1")]
    [InlineData("/ip6zone/3/ip4/1.2.3.4/tcp/1")]
    [InlineData("/p2p-circuit/ip4/1.2.3.4/tcp/1")]
    public void Addresses_that_do_not_start_with_ip_and_tcp_have_no_tcp_endpoint(string text)
    {
        Assert.False(Multiaddr.Parse(text).TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out var rest));
        Assert.Null(endPoint);
        Assert.Null(rest);
    }

    [Fact]
    public void Udp_endpoints_and_the_port_check()
    {
        Assert.True(Multiaddr.Parse("/ip4/10.0.0.1/udp/4001/quic-v1").TryGetIPEndPoint(MultiaddrProtocol.Udp, out var endPoint, out var rest));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 4001), endPoint);
        Assert.Equal("/quic-v1", rest.ToString());
        Assert.Throws<ArgumentException>(() => Multiaddr.Parse("/ip4/10.0.0.1/tcp/1/ws").TryGetIPEndPoint(MultiaddrProtocol.Ws, out _, out _));
        Assert.Throws<ArgumentException>(() => Multiaddr.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 1), MultiaddrProtocol.Ip4));
    }

    [Theory]
    [InlineData("127.0.0.1:4001", "/ip4/127.0.0.1/tcp/4001")]
    [InlineData("[::1]:443", "/ip6/::1/tcp/443")]
    [InlineData("[::ffff:192.0.2.1]:80", "/ip4/192.0.2.1/tcp/80")]
    [InlineData("[fe80::1%7]:80", "/ip6zone/7/ip6/fe80::1/tcp/80")]
    [InlineData("[2001:db8::1]:0", "/ip6/2001:db8::1/tcp/0")]
    public void Endpoints_become_multiaddrs_and_back(string endPoint, string expected)
    {
        var address = Multiaddr.FromIPEndPoint(IPEndPoint.Parse(endPoint));
        Assert.Equal(expected, address.ToString());
        Assert.True(address.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var back, out var rest));
        Assert.True(rest.IsEmpty);
        var original = IPEndPoint.Parse(endPoint);
        Assert.Equal(original.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(original.Address.MapToIPv4(), original.Port) : original, back);
    }

    [Fact]
    public void Udp_endpoint_becomes_a_udp_multiaddr()
    {
        var address = Multiaddr.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 53), MultiaddrProtocol.Udp);
        Assert.Equal(Convert.FromHexString("04c00002099102" + "0035"), address.ToBytes());
    }

    [Fact]
    public void Equality_is_by_bytes()
    {
        var p2p = Multiaddr.Parse($"/ip4/127.0.0.1/p2p/{Relay}");
        var ipfs = Multiaddr.Parse($"/ip4/127.0.0.1/ipfs/{Relay}");
        Assert.Equal(p2p, ipfs);
        Assert.True(p2p == ipfs);
        Assert.False(p2p != ipfs);
        Assert.Equal(p2p.GetHashCode(), ipfs.GetHashCode());
        Assert.NotEqual(p2p, Multiaddr.Parse("/ip4/127.0.0.2"));
        Assert.False(p2p == null);
        Assert.True((Multiaddr?)null == null);
        Assert.False(p2p.Equals((object)"not a multiaddr"));
        Assert.Equal(p2p.Components[1], ipfs.Components[1]);
        Assert.Equal(p2p.Components[1].GetHashCode(), ipfs.Components[1].GetHashCode());
        Assert.NotEqual(p2p.Components[0], ipfs.Components[1]);
    }

    [Fact]
    public void Binary_output_forms_agree()
    {
        var address = Multiaddr.Parse(RelayedText);
        var writer = new ArrayBufferWriter<byte>();
        address.WriteTo(writer);
        Assert.Equal(address.ToBytes(), writer.WrittenSpan.ToArray());
        Assert.Equal(address.ToBytes(), address.AsSpan().ToArray());
        Assert.Equal(address.ToBytes().Length, address.EncodedLength);
        var copy = address.ToBytes();
        copy[0] ^= 0xff;
        Assert.Equal(0x04, address.ToBytes()[0]);
    }

    [Fact]
    public void Components_are_built_from_values_and_checked()
    {
        var built = Multiaddr.Create(
            MultiaddrComponent.Parse(MultiaddrProtocol.Dns4, "example.com"),
            MultiaddrComponent.Create(MultiaddrProtocol.Tcp, [0x01, 0xbb]),
            MultiaddrComponent.Create(MultiaddrProtocol.Wss));
        Assert.Equal(Convert.FromHexString("360b6578616d706c652e636f6d0601bbde03"), built.ToBytes());
        Assert.Equal("/dns4/example.com/tcp/443/wss", built.ToString());

        Assert.Throws<ArgumentException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Tcp));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Tcp, [1, 2, 3]));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Tls, [1]));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Parse(MultiaddrProtocol.Tls, "x"));
        Assert.Equal(MultiaddrComponent.Create(MultiaddrProtocol.Tls), MultiaddrComponent.Parse(MultiaddrProtocol.Tls, ""));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Parse(MultiaddrProtocol.Dns, ""));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.HttpPath, new byte[Multiaddr.MaxEncodedLength + 1]));
    }

    [Fact]
    public void A_path_protocol_must_come_last()
    {
        var unix = Multiaddr.Parse("/unix/tmp/a.sock");
        Assert.Equal("/tmp/a.sock", unix.Components[0].ValueText);
        Assert.Throws<ArgumentException>(() => unix.Encapsulate(Multiaddr.Parse("/tcp/1")));
        Assert.Throws<ArgumentException>(() => Multiaddr.Create(unix.Components[0], MultiaddrComponent.Create(MultiaddrProtocol.Tls)));

        // /unix "/a" followed by /tcp 80: valid values, but the text form would read it as the path "/a/tcp/80".
        var error = Assert.Throws<WireFormatException>(() => Multiaddr.Decode(Convert.FromHexString("9003022f61060050")));
        Assert.Contains("last", error.Message, StringComparison.Ordinal);
        Assert.Equal("/a/tcp/80", Multiaddr.Parse("/unix/a/tcp/80").Components[0].ValueText);
    }

    [Theory]
    [InlineData("047f000001ff7f", "16383")]
    [InlineData("04c000022a8480808010", "0x100000004")] // would be 4 if truncated to 32 bits
    public void Unknown_protocol_codes_are_format_errors_naming_the_code(string hex, string code)
    {
        var error = Assert.Throws<WireFormatException>(() => Multiaddr.Decode(Convert.FromHexString(hex)));
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("04c00002", "4 value bytes but 3")] // truncated ip4
    [InlineData("a503ffffffff0f00", "value bytes but 1")] // length prefix far past the end
    [InlineData("a503", "truncated")] // no length prefix
    [InlineData("8400c000022a", "minimal")] // code 4 written in two bytes
    [InlineData("ffffffffffffffffff01", "9 bytes")] // code varint too long
    [InlineData("a5032212" + "21ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "multihash")] // declares 33 digest bytes, 32 follow
    [InlineData("a50323" + "1121ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "sha1")] // not identity or sha2-256
    [InlineData("3503612f62", "'/'")] // dns name with a slash
    [InlineData("3502c328", "UTF-8")] // dns name that is not UTF-8
    [InlineData("3500", "empty")] // empty dns name
    [InlineData("bc030010c0439831b48218480000", "port")] // onion port 0
    [InlineData("e10300", "empty")] // empty http-path
    [InlineData("9003012f", "unix path")] // unix path "/"
    [InlineData("bf031f" + "00000000000000000000000000000000000000000000000000000000000000", "32 bytes or")] // garlic32 of 31 bytes
    [InlineData("d20301" + "00", "truncated")] // certhash that is not a multihash
    public void Malformed_binary_is_a_format_error_saying_what(string hex, string reason)
    {
        var error = Assert.ThrowsAny<WireFormatException>(() => Multiaddr.Decode(Convert.FromHexString(hex)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.False(Multiaddr.TryDecode(Convert.FromHexString(hex), out var none));
        Assert.Null(none);
    }

    [Theory]
    [InlineData("/ip4/127.0.0.1/tcp/jfodsajfidosajfoidsa", "invalid /tcp value 'jfodsajfidosajfoidsa' at character 19")]
    [InlineData("/ip4/127.0.0.1/tcp/9090/http/p2p-webcrt-direct", "unknown multiaddr protocol 'p2p-webcrt-direct' at character 29")]
    [InlineData("/ip4/127.0.0.1/udp", "/udp at character 14 needs a value")]
    [InlineData("ip4/127.0.0.1", "must begin with '/'")]
    [InlineData("//", "no components")]
    [InlineData("/ip4/1.2.3.4//tcp/1", "unknown multiaddr protocol '' at character 13")]
    public void Malformed_text_is_a_format_error_saying_what_and_where(string text, string message)
    {
        var error = Assert.Throws<WireFormatException>(() => Multiaddr.Parse(text));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_valid_unicode_is_a_format_error()
    {
        var error = Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/dns/a\ud800b"));
        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/http-path/\udc00"));
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/unix/a\ud800"));
    }

    [Fact]
    public void Parse_and_try_parse_reject_null_differently()
    {
        Assert.Throws<ArgumentNullException>(() => Multiaddr.Parse(null!));
        Assert.False(Multiaddr.TryParse(null, out var none));
        Assert.Null(none);
        Assert.True(Multiaddr.TryParse("/tls", out var tls));
        Assert.Equal("/tls", tls.ToString());
    }

    [Fact]
    public void The_binary_bound_is_enforced_and_every_multiaddr_within_it_has_text_within_the_text_bound()
    {
        // /p2p-websocket-star is 2 bytes and 19 characters, the most text per byte of any component.
        var widest = string.Concat(Enumerable.Repeat("/p2p-websocket-star", Multiaddr.MaxEncodedLength / 2));
        var address = Multiaddr.Parse(widest);
        Assert.Equal(Multiaddr.MaxEncodedLength, address.EncodedLength);
        Assert.True(widest.Length <= Multiaddr.MaxTextLength);
        Assert.Equal(address, Multiaddr.Decode(address.ToBytes()));

        var tooLong = address.ToBytes().Concat(new byte[] { 0xc0, 0x03 }).ToArray();
        Assert.Contains("1024", Assert.Throws<WireFormatException>(() => Multiaddr.Decode(tooLong)).Message, StringComparison.Ordinal);
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse(widest + "/tls"));
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/" + new string('a', Multiaddr.MaxTextLength)));
        Assert.Throws<ArgumentException>(() => address.Encapsulate(Multiaddr.Parse("/tls")));
    }
}
