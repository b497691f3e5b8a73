using System.Text;
using FsCheck.Xunit;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Multiformats;

public class MultibaseTests
{
    private static readonly Dictionary<string, MultibaseEncoding> Supported = new(StringComparer.Ordinal)
    {
        ["base16"] = MultibaseEncoding.Base16Lower,
        ["base16upper"] = MultibaseEncoding.Base16Upper,
        ["base32"] = MultibaseEncoding.Base32Lower,
        ["base32upper"] = MultibaseEncoding.Base32Upper,
        ["base36"] = MultibaseEncoding.Base36Lower,
        ["base36upper"] = MultibaseEncoding.Base36Upper,
        ["base58btc"] = MultibaseEncoding.Base58Btc,
        ["base64"] = MultibaseEncoding.Base64,
        ["base64url"] = MultibaseEncoding.Base64Url,
    };

    public static TheoryData<string> CanonicalFiles() => new("basic.csv", "leading_zero.csv", "two_leading_zeros.csv");

    [Theory]
    [MemberData(nameof(CanonicalFiles))]
    public void Encodes_and_decodes_every_supported_row_of_the_upstream_vectors(string file)
    {
        var (input, rows) = ReadCsv(file);
        var checkedRows = 0;
        foreach (var (name, text) in rows)
        {
            if (Supported.TryGetValue(name, out var encoding))
            {
                Assert.Equal(text, Multibase.Encode(encoding, input));
                Assert.Equal(input, Multibase.Decode(text, out var decodedWith));
                Assert.Equal(encoding, decodedWith);
                checkedRows++;
            }
            else if (!Enum.IsDefined((MultibaseEncoding)text[0]))
            {
                // Encodings ToolNet does not implement are refused with the documented error, not misread.
                Assert.ThrowsAny<WireFormatException>(() => Multibase.Decode(text));
            }
        }

        Assert.Equal(Supported.Count, checkedRows);
    }

    [Fact]
    public void Decodes_mixed_case_spellings_where_the_alphabet_is_case_insensitive()
    {
        var (_, rows) = ReadCsv("case_insensitivity.csv");
        var checkedRows = 0;
        foreach (var (name, text) in rows)
        {
            if (Supported.ContainsKey(name))
            {
                Assert.Equal("hello world", Encoding.ASCII.GetString(Multibase.Decode(text)));
                checkedRows++;
            }
        }

        Assert.Equal(6, checkedRows);
    }

    [Theory]
    [InlineData("")]
    [InlineData("z0OIl")]
    [InlineData("b1")]
    [InlineData("bpfsxgidnmfxgsibb!")]
    [InlineData("u+/")]
    [InlineData("m-_")]
    [InlineData("fzz")]
    [InlineData("\u0001abc")]
    public void Rejects_malformed_text_with_the_format_exception(string text)
    {
        Assert.ThrowsAny<WireFormatException>(() => Multibase.Decode(text));
    }

    [Property]
    public void Every_encoding_round_trips(byte[] data)
    {
        foreach (var encoding in Enum.GetValues<MultibaseEncoding>())
        {
            Assert.Equal(data, Multibase.Decode(Multibase.Encode(encoding, data)));
        }
    }

    [Property]
    public void Arbitrary_text_decodes_or_throws_the_format_exception(string? text)
    {
        try
        {
            Multibase.Decode(text ?? string.Empty);
        }
        catch (WireFormatException)
        {
        }
    }

    private static (byte[] Input, List<(string Name, string Text)> Rows) ReadCsv(string file)
    {
        var lines = File.ReadAllLines(VectorFile.PathOf("multibase", file), Encoding.UTF8);
        var input = Encoding.ASCII.GetBytes(Unquote(lines[0]).Replace("\\x00", "\0", StringComparison.Ordinal));
        var rows = lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => (l[..l.IndexOf(',', StringComparison.Ordinal)], Unquote(l)))
            .ToList();
        return (input, rows);
    }

    private static string Unquote(string line)
    {
        var start = line.IndexOf('"', StringComparison.Ordinal) + 1;
        return line[start..line.LastIndexOf('"')];
    }
}
