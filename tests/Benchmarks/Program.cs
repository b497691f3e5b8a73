using BenchmarkDotNet.Running;

// Codec micro-benchmarks: dotnet run -c Release --project tests/Benchmarks -- --filter '*'
// The wire benchmarks (perf throughput, handshakes per second, idle-connection memory) are
// tests/Benchmarks/wire.sh, which runs toolnet and js-libp2p peers against each other.
// The GossipSub simulation over the in-memory network (figures, not BenchmarkDotNet):
//   dotnet run -c Release --project tests/Benchmarks -- pubsub-sim [nodes] [messages]
if (args is ["pubsub-sim", ..])
{
    var nodes = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
    var messages = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
    var runs = new (string Name, ToolNet.Benchmarks.PubSubSimulationSettings Settings)[]
    {
        ("no churn", new() { Nodes = nodes, Messages = messages }),
        ("20% churn", new() { Nodes = nodes, Messages = messages, Churn = 0.2 }),
        ("10% dropping", new() { Nodes = nodes, Messages = messages, Misbehaving = 0.1, Misbehaviour = ToolNet.Benchmarks.Misbehaviour.Drop }),
        ("10% spamming invalid", new() { Nodes = nodes, Messages = messages, Misbehaving = 0.1, Misbehaviour = ToolNet.Benchmarks.Misbehaviour.SpamInvalid }),
        ("2 KiB messages (IDONTWANT)", new() { Nodes = nodes, Messages = messages, MessageSize = 2048 }),
    };
    foreach (var (name, settings) in runs)
    {
        var result = await ToolNet.Benchmarks.PubSubSimulation.RunAsync(settings, CancellationToken.None);
        Console.WriteLine($"{name}: {result}");
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
