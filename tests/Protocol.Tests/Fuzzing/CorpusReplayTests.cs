using ToolNet.Fuzz;

namespace ToolNet.Protocol.Tests.Fuzzing;

/// <summary>Replays every seed and finding under fuzz/corpus through its fuzz target: a decoder may reject
/// bytes with <see cref="WireFormatException"/>, but any other exception fails the test.</summary>
public class CorpusReplayTests
{
    private static readonly string CorpusRoot = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");

    public static TheoryData<string> Targets()
    {
        var data = new TheoryData<string>();
        foreach (var name in FuzzTargets.All.Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_target_has_a_seed_corpus_that_replays_without_crashing(string targetName)
    {
        var folder = Path.Combine(CorpusRoot, targetName);
        Assert.True(Directory.Exists(folder), $"fuzz/corpus/{targetName} is missing");
        var files = Directory.GetFiles(folder);
        Assert.NotEmpty(files);
        var target = FuzzTargets.All[targetName];
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            var exception = Record.Exception(() => FuzzTargets.Run(target, bytes));
            Assert.True(exception is null, $"{targetName}/{Path.GetFileName(file)}: {exception}");
        }
    }

    [Fact]
    public void Every_corpus_folder_names_a_target()
    {
        if (!Directory.Exists(CorpusRoot))
        {
            return;
        }

        foreach (var folder in Directory.GetDirectories(CorpusRoot))
        {
            Assert.Contains(Path.GetFileName(folder), FuzzTargets.All.Keys);
        }
    }
}
