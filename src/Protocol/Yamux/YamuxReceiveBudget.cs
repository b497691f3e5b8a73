using System.Diagnostics;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// The receive memory of one connection (<see cref="YamuxOptions.MaxConnectionReceiveBuffer"/>): every byte of
/// receive window a stream grants the remote is reserved here first, and given back once the stream can no longer
/// receive and the application has consumed or dropped what it buffered. Thread-safe (lock-free): the read loop
/// reserves for new inbound streams, the application's threads for outbound streams and for window growth, and
/// release whatever they end. Each reservation is also taken from the node's receive memory
/// (<see cref="IMuxerResources"/>), after the connection's, and given back with it.
/// </summary>
internal sealed class YamuxReceiveBudget
{
    private readonly long _capacity;
    private readonly long _growthLimit;
    private readonly IMuxerResources _node;
    private long _reserved;

    /// <summary>A budget of <paramref name="capacity"/> bytes, nothing reserved, drawing on <paramref name="node"/>
    /// (by default a node without limits).</summary>
    public YamuxReceiveBudget(long capacity, IMuxerResources? node = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
        _node = node ?? UnlimitedMuxerResources.Instance;

        // Window growth is optional, a stream's initial window is not: growth leaves a quarter of the budget free so
        // that a few bulk transfers cannot starve new streams (identify, ping) of their initial windows.
        _growthLimit = capacity - (capacity / 4);
    }

    /// <summary>The bytes that may be reserved at most.</summary>
    public long Capacity => _capacity;

    /// <summary>The bytes reserved now.</summary>
    public long Reserved => Volatile.Read(ref _reserved);

    /// <summary>Reserves <paramref name="bytes"/> for a new stream's initial window; false, reserving nothing,
    /// when that would exceed the capacity (<paramref name="nodeFull"/> false) or the node has no room for it
    /// (<paramref name="nodeFull"/> true).</summary>
    public bool TryReserve(long bytes, out bool nodeFull) => TryReserve(bytes, _capacity, growth: false, out nodeFull);

    /// <summary>Reserves <paramref name="bytes"/> for a new stream's initial window; false, reserving nothing, when
    /// the connection or the node has no room for it.</summary>
    public bool TryReserve(long bytes) => TryReserve(bytes, out _);

    /// <summary>Reserves <paramref name="bytes"/> to grow a window; false, reserving nothing, when that would leave
    /// less than a quarter of the capacity free, or the node refuses the growth.</summary>
    public bool TryReserveGrowth(long bytes) => TryReserve(bytes, _growthLimit, growth: true, out _);

    /// <summary>Gives back <paramref name="bytes"/> reserved before.</summary>
    public void Release(long bytes)
    {
        var after = Interlocked.Add(ref _reserved, -bytes);
        Debug.Assert(after >= 0, "released more than was reserved");
        _node.ReleaseReceiveMemory(bytes);
    }

    private bool TryReserve(long bytes, long limit, bool growth, out bool nodeFull)
    {
        nodeFull = false;
        if (!TryReserveHere(bytes, limit))
        {
            return false;
        }

        if (!_node.TryReserveReceiveMemory(bytes, growth))
        {
            Interlocked.Add(ref _reserved, -bytes);
            nodeFull = true;
            return false;
        }

        return true;
    }

    private bool TryReserveHere(long bytes, long limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var current = Volatile.Read(ref _reserved);
        while (true)
        {
            if (current + bytes > limit)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _reserved, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }
}
