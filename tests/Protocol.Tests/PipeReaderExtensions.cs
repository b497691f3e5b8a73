using System.Buffers;
using System.IO.Pipelines;

namespace ToolNet.Protocol.Tests;

/// <summary>Test helpers over <see cref="PipeReader"/>.</summary>
public static class PipeReaderExtensions
{
    /// <summary>Reads until the writer completes (for a stream: the remote half-closes) and returns everything read.
    /// A reader completed with an error rethrows it.</summary>
    public static async Task<byte[]> ReadToEndAsync(this PipeReader reader)
    {
        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return received.WrittenSpan.ToArray();
            }
        }
    }
}
