using System.Buffers;
using System.IO.Pipelines;

namespace ToolNet.Protocol.Tests.Multistream;

/// <summary>Two in-memory pipe pairs wired back to back: what one end writes, the other reads.</summary>
internal sealed class PipePair
{
    private readonly Pipe leftToRight = new();
    private readonly Pipe rightToLeft = new();

    public PipePair()
    {
        Left = new DuplexPipe(rightToLeft.Reader, leftToRight.Writer);
        Right = new DuplexPipe(leftToRight.Reader, rightToLeft.Writer);
    }

    public IDuplexPipe Left { get; }

    public IDuplexPipe Right { get; }

    /// <summary>A token that ends a hung test instead of letting it run forever; no test relies on its timing.</summary>
    public static CancellationToken Guard() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    /// <summary>Writes raw bytes to <paramref name="writer"/> and flushes them.</summary>
    public static async Task SendAsync(PipeWriter writer, byte[] bytes)
    {
        await writer.WriteAsync(bytes);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from <paramref name="reader"/>.</summary>
    public static async Task<byte[]> ReceiveAsync(PipeReader reader, int count)
    {
        var result = await reader.ReadAtLeastAsync(count, Guard());
        var bytes = result.Buffer.Slice(0, Math.Min(count, result.Buffer.Length)).ToArray();
        reader.AdvanceTo(result.Buffer.GetPosition(bytes.Length));
        return bytes;
    }

    /// <summary>Reads everything until <paramref name="reader"/>'s writer completes.</summary>
    public static async Task<byte[]> ReceiveAllAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync(Guard());
            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
