using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>Each protocol's value text: what it accepts, what it rejects, and its canonical output.</summary>
public class MultiaddrValueTests
{
    [Theory]
    [InlineData("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "20010db8000000000000000000000001")] // RFC 5952 §4.1, §4.2.1
    [InlineData("2001:DB8::AB", "2001:db8::ab", "20010db80000000000000000000000ab")] // §4.3 lowercase
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", "20010db8000000010001000100010001")] // §4.2.2 one zero group stays
    [InlineData("2001:0:0:1:0:0:0:1", "2001:0:0:1::1", "20010000000000010000000000000001")] // §4.2.3 longest run
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", "20010db8000000000001000000000001")] // §4.2.3 first of equal runs
    [InlineData("::", "::", "00000000000000000000000000000000")]
    [InlineData("::1", "::1", "00000000000000000000000000000001")]
    [InlineData("1::", "1::", "00010000000000000000000000000000")]
    [InlineData("0:0:1::", "0:0:1::", "00000000000100000000000000000000")]
    [InlineData("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", "00010002000300040005000600070008")]
    [InlineData("1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8", "00010002000300040005000600000008")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.1", "00000000000000000000ffffc0000201")] // IPv4-mapped, as go-multiaddr prints it
    [InlineData("::FFFF:c000:0201", "::ffff:192.0.2.1", "00000000000000000000ffffc0000201")]
    [InlineData("::ffff:0:1", "::ffff:0.0.0.1", "00000000000000000000ffff00000001")]
    [InlineData("::192.0.2.1", "::c000:201", "000000000000000000000000c0000201")] // IPv4-compatible is plain hex
    [InlineData("64:ff9b::192.0.2.33", "64:ff9b::c000:221", "0064ff9b0000000000000000c0000221")]
    [InlineData("fe80::1:0:0:0", "fe80::1:0:0:0", "fe800000000000000001000000000000")]
    public void Ip6_text_is_read_and_printed_canonically(string written, string canonical, string hex)
    {
        var multiaddr = Multiaddr.Parse("/ip6/" + written);
        Assert.Equal(Convert.FromHexString("29" + hex), multiaddr.ToBytes());
        Assert.Equal("/ip6/" + canonical, multiaddr.ToString());
    }

    [Theory]
    [InlineData(":::")]
    [InlineData(":")]
    [InlineData("1:")]
    [InlineData(":1")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7::8")]
    [InlineData("1::2::3")]
    [InlineData("12345::")]
    [InlineData("::g")]
    [InlineData("1.2.3.4")]
    [InlineData("::1.2.3")]
    [InlineData("::1.2.3.4:5")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("::01.2.3.4")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[::1]")]
    [InlineData(" ::1")]
    [InlineData("1111:2222:3333:4444:5555:6666:7777:8888:")]
    public void Ip6_text_that_is_not_an_address_is_rejected(string text) =>
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/ip6/" + text));

    [Theory]
    [InlineData("0.0.0.0", "00000000")]
    [InlineData("255.255.255.255", "ffffffff")]
    [InlineData("192.0.2.42", "c000022a")]
    public void Ip4_text_is_a_dotted_quad(string text, string hex)
    {
        var multiaddr = Multiaddr.Parse("/ip4/" + text);
        Assert.Equal(Convert.FromHexString("04" + hex), multiaddr.ToBytes());
        Assert.Equal("/ip4/" + text, multiaddr.ToString());
    }

    [Theory]
    [InlineData("01.2.3.4")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.0.0.0")]
    [InlineData("1.2.3.-4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("0x1.2.3.4")]
    [InlineData("16909060")]
    [InlineData("1..2.3")]
    [InlineData("::ffff:1.2.3.4")]
    public void Ip4_text_that_is_not_a_dotted_quad_is_rejected(string text) =>
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/ip4/" + text));

    [Theory]
    [InlineData("/tcp/080", "/tcp/80")]
    [InlineData("/udp/00000", "/udp/0")]
    [InlineData("/ipcidr/255", "/ipcidr/255")]
    [InlineData("/memory/18446744073709551615", "/memory/18446744073709551615")]
    [InlineData("/onion/TIMAQ4YGG2IEGCI7:80", "/onion/timaq4ygg2iegci7:80")]
    [InlineData("/dns/xn--nxasmq6b.example", "/dns/xn--nxasmq6b.example")]
    [InlineData("/dns4/bücher.example", "/dns4/bücher.example")]
    [InlineData("/ip6zone/%25", "/ip6zone/%25")]
    [InlineData("/unix/a//b", "/unix/a//b")]
    [InlineData("/unix/a/b///", "/unix/a/b")]
    [InlineData("/http-path/a b", "/http-path/a%20b")]
    [InlineData("/http-path/%2f%C3%a9", "/http-path/%2F%C3%A9")]
    [InlineData("/http-path/é", "/http-path/%C3%A9")]
    [InlineData("/http-path/!'()*,;$&+:=@-._~", "/http-path/%21%27%28%29%2A%2C%3B$&+:=@-._~")]
    [InlineData("/certhash/f1220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2", "/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g")]
    public void Values_print_canonically(string written, string canonical)
    {
        var multiaddr = Multiaddr.Parse(written);
        Assert.Equal(canonical, multiaddr.ToString());
        Assert.Equal(multiaddr, Multiaddr.Parse(canonical));
    }

    [Theory]
    [InlineData("/tcp/+80")]
    [InlineData("/tcp/-0")]
    [InlineData("/tcp/ 80")]
    [InlineData("/tcp/0x50")]
    [InlineData("/udp/99999999999999999999999")]
    [InlineData("/ipcidr/256")]
    [InlineData("/memory/18446744073709551616")]
    [InlineData("/memory/-1")]
    [InlineData("/onion/timaq4ygg2iegci7:80:80")]
    [InlineData("/onion/timaq4ygg2iegc=7:80")]
    [InlineData("/onion/timaq4ygg2iegci7:65536")]
    [InlineData("/http-path/%")]
    [InlineData("/http-path/%2")]
    [InlineData("/http-path/%zz")]
    [InlineData("/certhash/u AAA")]
    [InlineData("/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8")]
    [InlineData("/certhash/?1220")]
    [InlineData("/certhash/zQmcgps yWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")]
    [InlineData("/p2p/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")] // CIDv1 dag-pb: not a peer id
    [InlineData("/p2p/zQmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC")] // a multibase CIDv0 is not a libp2p-key CID
    [InlineData("/p2p/12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5m0")] // '0' is not base58
    [InlineData("/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNK")] // truncated digest
    [InlineData("/p2p/mEiDDq4/xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g")] // not a CID, and holds '/'
    [InlineData("/garlic64/AAAA")]
    [InlineData("/garlic32/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("/ip6zone/")]
    public void Invalid_values_are_rejected(string text) =>
        Assert.ThrowsAny<WireFormatException>(() => Multiaddr.Parse(text));

    [Fact]
    public void Dns_names_are_bounded_at_255_bytes()
    {
        var longest = new string('a', 255);
        Assert.Equal("/dns/" + longest, Multiaddr.Parse("/dns/" + longest).ToString());
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/dns/" + longest + "a"));
        Assert.Throws<WireFormatException>(() => Multiaddr.Parse("/sni/" + new string('é', 128)));
        Assert.Throws<WireFormatException>(() => Multiaddr.Decode([0x35, 0x80, 0x02, .. new byte[256]]));
    }

    [Fact]
    public void Peer_ids_follow_the_peer_id_rules()
    {
        var sha1 = Multihash.Create(MultihashCode.Sha1, new byte[20]);
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.P2p, sha1.Bytes));
        var shortSha256 = Multihash.Create(MultihashCode.Sha2_256, new byte[20]);
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.P2p, shortSha256.Bytes));
        var tooLongToInline = Multihash.Create(MultihashCode.Identity, new byte[43]);
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.P2p, tooLongToInline.Bytes));
        var identity = Multihash.Create(MultihashCode.Identity, [8, 1, 18, 32, .. new byte[32]]);
        var component = MultiaddrComponent.Create(MultiaddrProtocol.P2p, identity.Bytes);
        Assert.Equal(Multibase.EncodeBase58Btc(identity.Bytes), component.ValueText);
        Assert.StartsWith("12D3KooW", component.ValueText, StringComparison.Ordinal);

        var asCid = Cid.CreateV1(MulticodecCode.Libp2pKey, identity).ToString(MultibaseEncoding.Base36Lower);
        Assert.Equal(component, MultiaddrComponent.Parse(MultiaddrProtocol.P2p, asCid));
        var wrongCodec = Cid.CreateV1(MulticodecCode.Raw, identity).ToString();
        Assert.Contains("libp2p-key", Assert.Throws<WireFormatException>(() => MultiaddrComponent.Parse(MultiaddrProtocol.P2p, wrongCodec)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Garlic64_destinations_round_trip_with_i2p_base64_and_padding()
    {
        var destination = Enumerable.Range(0, 386).Select(i => (byte)(i * 7 + 0xf8)).ToArray();
        var component = MultiaddrComponent.Create(MultiaddrProtocol.Garlic64, destination);
        Assert.Equal(516, component.ValueText.Length);
        Assert.EndsWith("=", component.ValueText, StringComparison.Ordinal);
        Assert.DoesNotContain('+', component.ValueText);
        Assert.DoesNotContain('/', component.ValueText);
        Assert.Contains('~', component.ValueText);
        Assert.Equal(component, MultiaddrComponent.Parse(MultiaddrProtocol.Garlic64, component.ValueText));

        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Garlic64, destination.AsSpan(0, 385)));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Garlic64, new byte[463]));
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Parse(MultiaddrProtocol.Garlic64, component.ValueText.Replace('~', '/')));
    }

    [Fact]
    public void Onion_services_carry_host_and_port()
    {
        var onion = Multiaddr.Parse("/onion/aaimaq4ygg2iegci:80");
        Assert.Equal(Convert.FromHexString("0010c0439831b48218480050"), onion.Components[0].Value.ToArray());
        Assert.Throws<WireFormatException>(() => MultiaddrComponent.Create(MultiaddrProtocol.Onion3, new byte[37]));
    }
}
