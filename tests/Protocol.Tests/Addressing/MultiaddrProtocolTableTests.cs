using System.Globalization;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>The protocol table against multiformats/multiaddr <c>protocols.csv</c>.</summary>
public class MultiaddrProtocolTableTests
{
    public static TheoryData<int, string, string> CsvRows()
    {
        var data = new TheoryData<int, string, string>();
        foreach (var line in File.ReadLines(VectorFile.PathOf("multiaddr", "protocols.csv")).Skip(1))
        {
            var cells = line.Split(',', 4).Select(c => c.Trim()).ToArray();
            if (cells.Length >= 3)
            {
                data.Add(int.Parse(cells[0], CultureInfo.InvariantCulture), cells[1], cells[2]);
            }
        }

        return data;
    }

    [Fact]
    public void The_csv_has_all_its_rows()
    {
        Assert.Equal(41, CsvRows().Count);
    }

    [Theory]
    [MemberData(nameof(CsvRows))]
    public void Every_csv_row_is_known_with_its_code_and_size(int code, string size, string name)
    {
        Assert.True(MultiaddrProtocol.TryGetByName(name, out var byName), name);
        Assert.True(MultiaddrProtocol.TryGetByCode((ulong)code, out var byCode), name);
        Assert.Same(byName, byCode);
        Assert.Equal(code, byName.Code);
        Assert.Equal(name == "ipfs" ? "p2p" : name, byName.Name);

        if (name == "memory")
        {
            // Documented deviation: the csv says "V", go-multiaddr and rust-multiaddr use a fixed 64-bit value.
            Assert.Equal("V", size);
            Assert.Equal((MultiaddrValueLayout.Fixed, 8), (byName.Layout, byName.FixedValueLength));
        }
        else if (size == "V")
        {
            Assert.Equal(MultiaddrValueLayout.LengthPrefixed, byName.Layout);
        }
        else if (size == "0")
        {
            Assert.Equal(MultiaddrValueLayout.None, byName.Layout);
        }
        else
        {
            Assert.Equal((MultiaddrValueLayout.Fixed, int.Parse(size, CultureInfo.InvariantCulture) / 8), (byName.Layout, byName.FixedValueLength));
        }
    }

    [Fact]
    public void Every_known_protocol_is_in_the_csv_once()
    {
        var names = CsvRows().Select(row => (string)row[2]).ToList();
        Assert.All(MultiaddrProtocol.All, p => Assert.Single(names, p.Name));
        Assert.Equal(MultiaddrProtocol.All.Count, MultiaddrProtocol.All.Select(p => p.Code).Distinct().Count());
    }

    [Fact]
    public void Unknown_names_and_codes_are_not_found()
    {
        Assert.False(MultiaddrProtocol.TryGetByName("IP4", out _));
        Assert.False(MultiaddrProtocol.TryGetByName("", out _));
        Assert.False(MultiaddrProtocol.TryGetByCode(0, out _));
        Assert.False(MultiaddrProtocol.TryGetByCode(ulong.MaxValue, out _));
        Assert.False(MultiaddrProtocol.TryGetByCode((ulong)int.MaxValue + 4, out _));
    }

    [Fact]
    public void Only_the_sixteen_bit_ports_are_ports()
    {
        Assert.Equal(["tcp", "dccp", "sctp", "udp"], MultiaddrProtocol.All.Where(p => p.IsPort).Select(p => p.Name));
        Assert.Equal(["unix"], MultiaddrProtocol.All.Where(p => p.IsPath).Select(p => p.Name));
    }
}
