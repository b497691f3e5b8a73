using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>Properties: generated multiaddrs of every protocol round-trip through both forms; arbitrary and mutated
/// input of either form is either accepted (and then round-trips) or rejected with <see cref="WireFormatException"/>.</summary>
[Properties(Arbitrary = [typeof(MultiaddrArbitraries)], MaxTest = 300)]
public class MultiaddrPropertyTests
{
    private const string TextEdits = "/%:.=é\ud800z0aQ1 ";

    [Property]
    public void Generated_multiaddrs_round_trip_through_text_and_binary(Multiaddr multiaddr)
    {
        AssertRoundTrips(multiaddr);
        foreach (var component in multiaddr.Components)
        {
            Assert.Equal(component, MultiaddrComponent.Parse(component.Protocol, component.ValueText));
            Assert.Equal(component, MultiaddrComponent.Create(component.Protocol, component.Value.Span));
        }
    }

    [Property]
    public void Every_protocol_appears_in_generated_multiaddrs(MultiaddrProtocol protocol)
    {
        var component = MultiaddrArbitraries.Component(protocol).Sample(1, 1)[0];
        AssertRoundTrips(Multiaddr.Create(component));
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes) => DecodeOrReject(bytes);

    [Property]
    public void Mutated_encodings_decode_or_throw_the_format_exception(Multiaddr multiaddr, Mutation mutation) =>
        DecodeOrReject(mutation.Apply(multiaddr.ToBytes(), b => b));

    [Property]
    public void Arbitrary_strings_parse_or_throw_the_format_exception(string text) => ParseOrReject(text);

    [Property]
    public void Token_soup_parses_or_throws_the_format_exception(TokenText text) => ParseOrReject(text.Text);

    [Property]
    public void Mutated_texts_parse_or_throw_the_format_exception(Multiaddr multiaddr, Mutation mutation) =>
        ParseOrReject(new string(mutation.Apply(multiaddr.ToString().ToCharArray(), b => TextEdits[b % TextEdits.Length])));

    private static void DecodeOrReject(byte[] bytes)
    {
        Multiaddr decoded;
        try
        {
            decoded = Multiaddr.Decode(bytes);
        }
        catch (WireFormatException)
        {
            return;
        }

        Assert.Equal(bytes, decoded.ToBytes());
        AssertRoundTrips(decoded);
    }

    private static void ParseOrReject(string? text)
    {
        if (text is null)
        {
            return;
        }

        Multiaddr parsed;
        try
        {
            parsed = Multiaddr.Parse(text);
        }
        catch (WireFormatException)
        {
            return;
        }

        AssertRoundTrips(parsed);
    }

    private static void AssertRoundTrips(Multiaddr multiaddr)
    {
        var text = multiaddr.ToString();
        var fromText = Multiaddr.Parse(text);
        Assert.Equal(multiaddr.ToBytes(), fromText.ToBytes());
        Assert.Equal(text, fromText.ToString());
        Assert.Equal(multiaddr.ToBytes(), Multiaddr.Decode(multiaddr.ToBytes()).ToBytes());
        Assert.True(text.Length <= Multiaddr.MaxTextLength);
    }
}

/// <summary>An edit of a sequence: replace, insert or delete one element, or truncate.</summary>
public sealed record Mutation(int Kind, int Position, byte Value)
{
    public T[] Apply<T>(T[] items, Func<byte, T> element)
    {
        var list = items.ToList();
        var at = list.Count == 0 ? 0 : Position % list.Count;
        switch (Kind % 4)
        {
            case 0 when list.Count > 0:
                list[at] = element(Value);
                break;
            case 1:
                list.Insert(at, element(Value));
                break;
            case 2 when list.Count > 0:
                list.RemoveAt(at);
                break;
            default:
                list.RemoveRange(at, list.Count - at);
                break;
        }

        return [.. list];
    }
}

/// <summary>Text assembled from protocol names, values and separators, to reach deep into the parser.</summary>
public sealed record TokenText(string Text);

/// <summary>Generators for valid components of every protocol, multiaddrs of them, and the inputs above.</summary>
public static class MultiaddrArbitraries
{
    private static readonly Gen<byte> AnyByte = Gen.Choose(0, 255).Select(i => (byte)i);

    private static readonly string[] Tokens =
    [
        .. MultiaddrProtocol.All.Select(p => p.Name), "ipfs", "/", "/", "/", "", "1.2.3.4", "::1", "fe80::", "::ffff:1.2.3.4",
        "80", "0", "65536", "255", "256", "-1", "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC",
        "12D3KooWCryG7Mon9orvQxcS1rYZjotPgpwoJNHHKcLLfE4Hf5mV", "k51qzi5uqu5dhb6l8spkdx7yxafegfkee5by8h7lmjh2ehc2sgg34z7c15vzqs",
        "bafzbeigvf25ytwc3akrijfecaotc74udrhcxzh2cx3we5qqnw5vgrei4bm", "uEiDDq4_xNyDorZBH3TlGazyJdOWSwvo4PUo5YHFMrvDE8g",
        "timaq4ygg2iegci7:80", "566niximlxdzpanmn4qouucvua3k7neniwss47li5r6ugoertzuq", "%", "%2F", "%zz", "é", ":", "x",
        "example.com", "a b", "\ud800",
    ];

    public static Arbitrary<MultiaddrProtocol> Protocols() => Arb.From(Gen.Elements(MultiaddrProtocol.All.ToArray()));

    public static Arbitrary<Multiaddr> Multiaddrs() => Arb.From(
        from count in Gen.Choose(1, 8)
        from leading in Gen.ArrayOf(Gen.Elements(MultiaddrProtocol.All.Where(p => !p.IsPath).ToArray()).SelectMany(Component), count - 1)
        from last in Gen.Elements(MultiaddrProtocol.All.ToArray()).SelectMany(Component)
        let components = leading.Append(last).ToArray()
        where components.Sum(c => c.Encoded.Length) <= Multiaddr.MaxEncodedLength
        select Multiaddr.Create(components));

    public static Arbitrary<Mutation> Mutations() => Arb.From(
        from kind in Gen.Choose(0, 3)
        from position in Gen.Choose(0, 2000)
        from value in AnyByte
        select new Mutation(kind, position, value));

    public static Arbitrary<TokenText> TokenTexts() => Arb.From(
        Gen.ListOf(Gen.Elements(Tokens)).Select(tokens => new TokenText("/" + string.Join("/", tokens))));

    /// <summary>A valid component of <paramref name="protocol"/> with a random value.</summary>
    public static Gen<MultiaddrComponent> Component(MultiaddrProtocol protocol) =>
        Value(protocol).Select(value => MultiaddrComponent.Create(protocol, value));

    private static Gen<byte[]> Value(MultiaddrProtocol protocol)
    {
        if (protocol == MultiaddrProtocol.Onion || protocol == MultiaddrProtocol.Onion3)
        {
            return from host in Bytes(protocol.FixedValueLength - 2, protocol.FixedValueLength - 2)
                   from port in Gen.Choose(1, ushort.MaxValue)
                   select (byte[])[.. host, (byte)(port >> 8), (byte)port];
        }

        if (protocol.Layout == MultiaddrValueLayout.Fixed)
        {
            return Bytes(protocol.FixedValueLength, protocol.FixedValueLength);
        }

        if (protocol.Layout == MultiaddrValueLayout.None)
        {
            return Gen.Constant(Array.Empty<byte>());
        }

        if (protocol == MultiaddrProtocol.Unix)
        {
            return from segments in Gen.ListOf(Text("ab.-_ é%:", 0, 6))
                   from last in Text("ab.-_ é%:", 1, 6)
                   select Encoding.UTF8.GetBytes("/" + string.Concat(segments.Select(s => s + "/")) + last);
        }

        if (protocol == MultiaddrProtocol.P2p)
        {
            return Gen.OneOf(
                Bytes(0, 42).Select(key => Multihash.Create(MultihashCode.Identity, key).Bytes.ToArray()),
                Bytes(32, 32).Select(digest => Multihash.Create(MultihashCode.Sha2_256, digest).Bytes.ToArray()));
        }

        if (protocol == MultiaddrProtocol.CertHash)
        {
            return from code in Gen.Choose(0, 0x3fff)
                   from digest in Bytes(0, 48)
                   select Multihash.Create((ulong)code, digest).Bytes.ToArray();
        }

        if (protocol == MultiaddrProtocol.HttpPath)
        {
            return Bytes(1, 40);
        }

        if (protocol == MultiaddrProtocol.Garlic64)
        {
            return Bytes(386, 462);
        }

        if (protocol == MultiaddrProtocol.Garlic32)
        {
            return Gen.OneOf(Bytes(32, 32), Bytes(35, 60));
        }

        // dns, dns4, dns6, dnsaddr, sni, ip6zone: names.
        return Text("abcXYZ09.-_%:é日", 1, 40).Select(Encoding.UTF8.GetBytes);
    }

    private static Gen<byte[]> Bytes(int min, int max) => Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(AnyByte, n));

    private static Gen<string> Text(string alphabet, int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(Gen.Elements(alphabet.ToCharArray()), n)).Select(chars => new string(chars));
}
