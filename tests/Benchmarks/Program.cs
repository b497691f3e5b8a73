using BenchmarkDotNet.Running;

// Codec micro-benchmarks: dotnet run -c Release --project tests/Benchmarks -- --filter '*'
// The wire benchmarks (perf throughput, handshakes per second, idle-connection memory) are
// tests/Benchmarks/wire.sh, which runs toolnet and js-libp2p peers against each other.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
