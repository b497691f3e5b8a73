using System.IO.Pipelines;

namespace ToolNet.Benchmarks;

/// <summary>Two pipe ends as one duplex pipe: one side of an in-memory connection.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
