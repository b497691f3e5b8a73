using System.Text;
using System.Text.RegularExpressions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Addressing;

/// <summary>Runs every scenario of multiformats/multiaddr <c>test/multiaddr.feature</c>. The Gherkin is read here;
/// a step this reader does not know fails the scenario, so new upstream steps cannot be skipped silently.</summary>
public partial class MultiaddrFeatureTests
{
    private static readonly IReadOnlyList<Scenario> Scenarios = ReadFeature(VectorFile.PathOf("multiaddr", "multiaddr.feature"));

    public static TheoryData<string> ScenarioNames() => [.. Scenarios.Select(s => s.Name)];

    [Fact]
    public void The_feature_file_has_the_two_published_scenarios()
    {
        Assert.Equal(["Simple string form", "Simple packed form"], Scenarios.Select(s => s.Name));
        Assert.All(Scenarios, s => Assert.Contains(s.Steps, step => step.Table is { Count: > 0 }));
    }

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public void Scenario_holds(string name)
    {
        var scenario = Scenarios.Single(s => s.Name == name);
        Multiaddr? multiaddr = null;
        foreach (var step in scenario.Steps)
        {
            Match match;
            if ((match = GivenMultiaddr().Match(step.Text)).Success)
            {
                var given = match.Groups[1].Value;
                multiaddr = given.StartsWith("0x", StringComparison.Ordinal)
                    ? Multiaddr.Decode(Convert.FromHexString(given[2..]))
                    : Multiaddr.Parse(given);
            }
            else if ((match = PackedForm().Match(step.Text)).Success)
            {
                Assert.Equal(Convert.FromHexString(match.Groups[1].Value), Required(multiaddr).ToBytes());
            }
            else if ((match = PackedSize().Match(step.Text)).Success)
            {
                Assert.Equal(int.Parse(match.Groups[1].Value), Required(multiaddr).EncodedLength);
            }
            else if ((match = StringForm().Match(step.Text)).Success)
            {
                Assert.Equal(match.Groups[1].Value, Required(multiaddr).ToString());
            }
            else if ((match = StringSize().Match(step.Text)).Success)
            {
                Assert.Equal(int.Parse(match.Groups[1].Value), Encoding.UTF8.GetByteCount(Required(multiaddr).ToString()));
            }
            else if (step.Text == "the components are:")
            {
                CheckComponents(Required(multiaddr), step.Table ?? throw new InvalidOperationException("components step without a table"));
            }
            else
            {
                Assert.Fail($"unknown step '{step.Text}'");
            }
        }
    }

    private static void CheckComponents(Multiaddr multiaddr, List<Dictionary<string, string>> rows)
    {
        Assert.Equal(rows.Count, multiaddr.Components.Length);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var component = multiaddr.Components[i];
            var code = Varint.Encode((ulong)component.Protocol.Code);
            var prefix = Hex(row["lengthPrefix"]);
            var raw = Hex(row["rawValue"]);

            Assert.Equal(row["string"], component.ToString());
            Assert.Equal(int.Parse(row["stringSize"]), Encoding.UTF8.GetByteCount(component.ToString()));
            Assert.Equal(Hex(row["packed"]), component.Encoded.ToArray());
            Assert.Equal(int.Parse(row["packedSize"]), component.Encoded.Length);
            Assert.Equal(row["value"], component.ValueText);
            Assert.Equal(int.Parse(row["valueSize"]), component.Value.Length);
            Assert.Equal(row["protocol"], component.Protocol.Name);
            Assert.Equal(int.Parse(row["codec"]), component.Protocol.Code);
            Assert.Equal(Hex(row["uvarint"]), code);
            Assert.Equal(raw, component.Value.ToArray());
            Assert.Equal([.. code, .. prefix, .. raw], component.Encoded.ToArray());
            Assert.Equal(component, MultiaddrComponent.Parse(component.Protocol, row["value"]));
        }
    }

    private static Multiaddr Required(Multiaddr? multiaddr) =>
        multiaddr ?? throw new InvalidOperationException("a step needs a multiaddr before any Given step");

    private static byte[] Hex(string cell) => cell.Length == 0 ? [] : Convert.FromHexString(cell.StartsWith("0x", StringComparison.Ordinal) ? cell[2..] : cell);

    private static List<Scenario> ReadFeature(string path)
    {
        var scenarios = new List<Scenario>();
        string[]? header = null;
        foreach (var rawLine in File.ReadLines(path))
        {
            var line = rawLine.Trim();
            if (line.StartsWith("Scenario:", StringComparison.Ordinal))
            {
                scenarios.Add(new Scenario(line["Scenario:".Length..].Trim(), []));
            }
            else if (line.StartsWith('|'))
            {
                var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
                var step = scenarios[^1].Steps[^1];
                if (step.Table is null)
                {
                    header = cells;
                    scenarios[^1].Steps[^1] = step with { Table = [] };
                }
                else
                {
                    step.Table.Add(header!.Zip(cells).ToDictionary(p => p.First, p => p.Second));
                }
            }
            else if (StepKeyword().Match(line) is { Success: true } step)
            {
                scenarios[^1].Steps.Add(new Step(step.Groups[1].Value, null));
            }
            else if (line.Length > 0 && !line.StartsWith("Feature:", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"unexpected feature line '{line}'");
            }
        }

        return scenarios;
    }

    [GeneratedRegex(@"^(?:Given|When|Then|And|But) (.+)$")]
    private static partial Regex StepKeyword();

    [GeneratedRegex(@"^the multiaddr (\S+)$")]
    private static partial Regex GivenMultiaddr();

    [GeneratedRegex(@"^the packed form is 0x([0-9a-fA-F]+)$")]
    private static partial Regex PackedForm();

    [GeneratedRegex(@"^the packed size is (\d+) bytes$")]
    private static partial Regex PackedSize();

    [GeneratedRegex(@"^the string form is (\S+)$")]
    private static partial Regex StringForm();

    [GeneratedRegex(@"^the string size is (\d+) bytes$")]
    private static partial Regex StringSize();

    private sealed record Scenario(string Name, List<Step> Steps);

    private sealed record Step(string Text, List<Dictionary<string, string>>? Table);
}
