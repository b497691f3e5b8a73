using System.Buffers;

namespace ToolNet.Fuzz;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, the shape network reads arrive in, so that
/// decoders are exercised across segment boundaries (used by fuzz targets and tests).</summary>
public static class SegmentedSequence
{
    /// <summary><paramref name="memory"/> as a sequence of segments of <paramref name="segmentLength"/> bytes
    /// (the last one shorter); a single segment when <paramref name="segmentLength"/> is not positive or covers it all.</summary>
    public static ReadOnlySequence<byte> Create(ReadOnlyMemory<byte> memory, int segmentLength)
    {
        if (segmentLength <= 0 || segmentLength >= memory.Length)
        {
            return new ReadOnlySequence<byte>(memory);
        }

        var first = new Segment(memory[..segmentLength], 0);
        var last = first;
        for (var start = segmentLength; start < memory.Length; start += segmentLength)
        {
            last = last.Append(memory.Slice(start, Math.Min(segmentLength, memory.Length - start)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
