using System.Text.Json;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>The go-multiaddr test literals (<c>multiaddr_test.go</c>): string/hex pairs, must-parse and must-fail strings.</summary>
public class GoMultiaddrVectorTests
{
    private static readonly JsonElement Literals = VectorFile.Json("multiaddr", "go-multiaddr-test-literals.json");

    /// <summary>
    /// Where go-multiaddr prints a must-parse string differently from how it was written, each rewrite that turns the
    /// input into the canonical text. The right-hand sides were computed outside ToolNet (Python: base58 of the CID's
    /// multihash; base64url of the certhash bytes; base32 re-encoding without the input's non-zero spare bits).
    /// </summary>
    private static readonly (string Written, string Canonical)[] CanonicalRewrites =
    [
        ("/ipfs/", "/p2p/"),
        ("k2k4r8oqamigqdo6o7hsbfwd45y70oyynp98usk7zmyfrzpqxh1pohl7", "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"),
        ("bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm", "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC"),
        ("k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs", "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV"),
        ("bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u", "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV"),
        ("/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy", "/certhash/u1QEQOFj2IjCsPJFfMAxmQxLGPw"),
        ("/certhash/zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41", "/certhash/uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g"),
        ("566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuqzwassw", "566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuqzwassu"),
    ];

    public static TheoryData<string, string> StringToBytes()
    {
        var data = new TheoryData<string, string>();
        foreach (var pair in Literals.GetProperty("string_to_bytes_hex").EnumerateArray())
        {
            data.Add(pair.GetProperty("string").GetString()!, pair.GetProperty("hex").GetString()!);
        }

        return data;
    }

    public static TheoryData<int, string> MustParse() => Indexed("must_parse");

    public static TheoryData<int, string> MustFail() => Indexed("must_fail");

    [Fact]
    public void All_published_literals_are_loaded()
    {
        Assert.Equal(7, StringToBytes().Count);
        Assert.Equal(93, MustParse().Count);
        Assert.Equal(65, MustFail().Count);
    }

    [Theory]
    [MemberData(nameof(StringToBytes))]
    public void String_and_bytes_convert_both_ways(string text, string hex)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.Equal(bytes, Multiaddr.Parse(text).ToBytes());
        Assert.Equal(text, Multiaddr.Decode(bytes).ToString());
    }

    [Theory]
    [MemberData(nameof(MustParse))]
    public void Must_parse_strings_parse_and_round_trip(int index, string text)
    {
        _ = index;
        var multiaddr = Multiaddr.Parse(text);
        var bytes = multiaddr.ToBytes();

        Assert.Equal(Canonical(text), multiaddr.ToString());
        Assert.Equal(bytes, Multiaddr.Parse(multiaddr.ToString()).ToBytes());
        var decoded = Multiaddr.Decode(bytes);
        Assert.Equal(bytes, decoded.ToBytes());
        Assert.Equal(multiaddr.ToString(), decoded.ToString());
        Assert.Equal(multiaddr.ToString(), string.Concat(multiaddr.Components.Select(c => c.ToString())));
    }

    [Theory]
    [MemberData(nameof(MustFail))]
    public void Must_fail_strings_fail_with_a_format_error(int index, string text)
    {
        _ = index;
        var error = Assert.ThrowsAny<WireFormatException>(() => Multiaddr.Parse(text));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.False(Multiaddr.TryParse(text, out _));
    }

    [Fact]
    public void Every_canonical_rewrite_is_exercised_by_some_must_parse_string()
    {
        var inputs = MustParse().Select(row => (string)row[1]).ToList();
        Assert.All(CanonicalRewrites, rewrite => Assert.Contains(inputs, s => s.Contains(rewrite.Written, StringComparison.Ordinal)));
    }

    // Exact bytes for must-parse strings whose binary form is not in the published pairs, computed outside ToolNet.
    [Theory]
    [InlineData("/ip6zone/x%y/ip6/::", "2a037825792900000000000000000000000000000000")]
    [InlineData("/memory/4", "89060000000000000004")]
    [InlineData("/unix/stdio", "9003062f737464696f")]
    [InlineData("/ip4/1.2.3.4/tcp/80/unix/a/b/c/d/e/f", "040102030406005090030c2f612f622f632f642f652f66")]
    [InlineData("/http-path/tmp%2Fbar", "e10307746d702f626172")]
    [InlineData("/ip6/2001:db8::/ipcidr/32", "2920010db80000000000000000000000002b20")]
    [InlineData("/p2p/12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV", "a503260024080112202d3de6d16ae87f7a933fe1552162a2d3f04951e90e8051e4ee2c18f002dd0fb4")]
    [InlineData("/p2p/bafzaajaiaejcalj543iwv2d7pkjt7ykvefrkfu7qjfi6sduakhso4lay6abn2d5u", "a503260024080112202d3de6d16ae87f7a933fe1552162a2d3f04951e90e8051e4ee2c18f002dd0fb4")]
    [InlineData("/ip4/127.0.0.1/tcp/443/tls/sni/example.com/http/http-path/foo", "047f0000010601bbc003c1030b6578616d706c652e636f6de003e10303666f6f")]
    [InlineData(
        "/ip4/127.0.0.1/udp/1234/quic-v1/webtransport/certhash/b2uaraocy6yrdblb4sfptaddgimjmmpy/certhash/zQmbWTwYGcmdyK9CYfNBcfs9nhZs17a6FQ4Y8oea278xx41",
        "047f000001910204d2cd03d103d20313d501103858f62230ac3c915f300c664312c63fd203221220c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2")]
    public void Must_parse_strings_have_the_expected_bytes(string text, string hex) =>
        Assert.Equal(Convert.FromHexString(hex), Multiaddr.Parse(text).ToBytes());

    private static string Canonical(string text)
    {
        foreach (var (written, canonical) in CanonicalRewrites)
        {
            text = text.Replace(written, canonical, StringComparison.Ordinal);
        }

        return text.TrimEnd('/');
    }

    private static TheoryData<int, string> Indexed(string property)
    {
        var data = new TheoryData<int, string>();
        var index = 0;
        foreach (var text in Literals.GetProperty(property).EnumerateArray())
        {
            data.Add(index++, text.GetString()!);
        }

        return data;
    }
}
