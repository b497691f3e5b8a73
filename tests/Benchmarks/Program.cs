using BenchmarkDotNet.Running;

// Codec micro-benchmarks: dotnet run -c Release --project tests/Benchmarks -- --filter '*'
// The wire benchmarks (perf throughput, handshakes per second, idle-connection memory) are
// tests/Benchmarks/wire.sh, which runs toolnet and js-libp2p peers against each other.
// The GossipSub simulation over the in-memory network (figures, not BenchmarkDotNet):
//   dotnet run -c Release --project tests/Benchmarks -- pubsub-sim [nodes] [messages] [ms between publications]
// It runs on the real clock: the publication rate must stay within what the machine can route (every message is
// handled by every node), or queueing swamps the 20 ms links.
if (args is ["pubsub-sim", ..])
{
    var nodes = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
    var messages = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
    var interval = TimeSpan.FromMilliseconds(args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 20);
    var runs = new (string Name, ToolNet.Benchmarks.PubSubSimulationSettings Settings)[]
    {
        ("no churn", new() { Nodes = nodes, Messages = messages, PublishInterval = interval }),
        ("20% churn", new() { Nodes = nodes, Messages = messages, PublishInterval = interval, Churn = 0.2 }),
        ("10% dropping", new() { Nodes = nodes, Messages = messages, PublishInterval = interval, Misbehaving = 0.1, Misbehaviour = ToolNet.Benchmarks.Misbehaviour.Drop }),
        ("10% spamming invalid", new() { Nodes = nodes, Messages = messages, PublishInterval = interval, Misbehaving = 0.1, Misbehaviour = ToolNet.Benchmarks.Misbehaviour.SpamInvalid }),
        ("2 KiB messages (IDONTWANT)", new() { Nodes = nodes, Messages = messages, PublishInterval = interval, MessageSize = 2048 }),
    };
    foreach (var (name, settings) in runs)
    {
        var result = await ToolNet.Benchmarks.PubSubSimulation.RunAsync(settings, CancellationToken.None);
        Console.WriteLine($"{name}: {result}");
    }

    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
