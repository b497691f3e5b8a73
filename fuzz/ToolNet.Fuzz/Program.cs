using SharpFuzz;
using ToolNet.Fuzz;

// Usage (see fuzz/README.md):
//   ToolNet.Fuzz list                       names of all targets
//   ToolNet.Fuzz afl <target>               AFL++ persistent mode (run under afl-fuzz after `sharpfuzz` instrumentation)
//   ToolNet.Fuzz libfuzzer <target>         libFuzzer mode (run under libfuzzer-dotnet)
//   ToolNet.Fuzz replay <target> <dir>      run every file of a corpus folder once, report findings
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: ToolNet.Fuzz list | afl <target> | libfuzzer <target> | replay <target> <dir>");
    return 2;
}

if (args[0] == "list")
{
    foreach (var name in FuzzTargets.All.Keys)
    {
        Console.WriteLine(name);
    }

    return 0;
}

if (args.Length < 2 || !FuzzTargets.All.TryGetValue(args[1], out var target))
{
    Console.Error.WriteLine($"unknown target; known: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}

switch (args[0])
{
    case "afl":
        Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            FuzzTargets.Run(target, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    case "libfuzzer":
        Fuzzer.LibFuzzer.Run(span => FuzzTargets.Run(target, span));
        return 0;
    case "replay" when args.Length == 3:
        var accepted = 0;
        var rejected = 0;
        foreach (var file in Directory.EnumerateFiles(args[2]))
        {
            if (FuzzTargets.Run(target, File.ReadAllBytes(file)))
            {
                accepted++;
            }
            else
            {
                rejected++;
            }
        }

        Console.WriteLine($"{args[1]}: {accepted} accepted, {rejected} rejected, 0 crashed");
        return 0;
    default:
        Console.Error.WriteLine("usage: ToolNet.Fuzz list | afl <target> | libfuzzer <target> | replay <target> <dir>");
        return 2;
}
