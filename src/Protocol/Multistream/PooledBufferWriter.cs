using System.Buffers;

namespace ToolNet.Protocol.Multistream;

/// <summary>A growable <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool.</summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>
{
    private const int MinimumCapacity = 256;

    private byte[] buffer = [];
    private int written;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => buffer.AsSpan(0, written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, buffer.Length - written);
        written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return buffer.AsMemory(written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureCapacity(sizeHint);
        return buffer.AsSpan(written);
    }

    /// <summary>Returns the rented array to the pool; the writer is empty afterwards.</summary>
    public void Release()
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        buffer = [];
        written = 0;
    }

    private void EnsureCapacity(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = (long)written + Math.Max(sizeHint, 1);
        if (needed <= buffer.Length)
        {
            return;
        }

        if (needed > Array.MaxLength)
        {
            throw new InvalidOperationException("the buffered bytes would exceed the largest possible array");
        }

        var capacity = (int)Math.Min(Array.MaxLength, Math.Max(needed, Math.Max(MinimumCapacity, (long)buffer.Length * 2)));
        var larger = ArrayPool<byte>.Shared.Rent(capacity);
        WrittenSpan.CopyTo(larger);
        var count = written;
        Release();
        buffer = larger;
        written = count;
    }
}
