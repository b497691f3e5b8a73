using System.Buffers;
using System.Collections.Concurrent;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// A pool of fixed 4 KiB blocks on the pinned object heap, the connection pipes' default (Kestrel's
/// <c>PinnedBlockMemoryPool</c> idea). The shared <see cref="ArrayPool{T}"/> keeps only a few arrays per size and
/// core, so pipes that hold hundreds of segments under load would allocate a fresh array for most receives; this
/// pool keeps every returned block up to <see cref="MaxRetainedBlocks"/>. Pinned blocks also spare the socket
/// layer a pin per operation. An idle connection holds no block (it waits for data before renting one).
/// </summary>
internal sealed class PinnedBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every block; larger requests are refused (a pipe then rents from the array pool).</summary>
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _idle = new();
    private int _idleCount;

    /// <param name="maxRetainedBlocks">How many returned blocks are kept for reuse; beyond that they are left to the
    /// garbage collector. The default, 16384, is 64 MiB.</param>
    public PinnedBlockMemoryPool(int maxRetainedBlocks = 16384)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        MaxRetainedBlocks = maxRetainedBlocks;
    }

    public override int MaxBufferSize => BlockSize;

    public int MaxRetainedBlocks { get; }

    /// <summary>Blocks returned and kept for reuse.</summary>
    public int IdleBlocks => Volatile.Read(ref _idleCount);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_idle.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _idleCount);
            return block;
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing) => _idle.Clear();

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _idleCount) > MaxRetainedBlocks)
        {
            Interlocked.Decrement(ref _idleCount);
            return;
        }

        _idle.Enqueue(block);
    }

    private sealed class Block(PinnedBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
