using ToolNet.Fuzz;

namespace ToolNet.Protocol.Tests.Fuzzing;

/// <summary>For targets whose seeds are named by verdict: a seed named <c>invalid-…</c> must be rejected and every
/// other seed accepted, so a target that rejects everything (or nothing) cannot pass the corpus replay unnoticed.</summary>
public class SeedVerdictTests
{
    [Theory]
    [InlineData("identify-message")]
    [InlineData("peer-record")]
    [InlineData("kad-message")]
    [InlineData("pubsub-rpc")]
    public void Valid_seeds_are_accepted_and_invalid_ones_rejected(string targetName)
    {
        var target = FuzzTargets.All[targetName];
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "FuzzCorpus", targetName));
        Assert.Contains(files, file => Path.GetFileName(file).StartsWith("invalid-", StringComparison.Ordinal));
        Assert.Contains(files, file => !Path.GetFileName(file).StartsWith("invalid-", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var name = Path.GetFileName(file);
            Assert.True(FuzzTargets.Run(target, File.ReadAllBytes(file)) != name.StartsWith("invalid-", StringComparison.Ordinal), $"{targetName}/{name}");
        }
    }
}
