using System.Diagnostics;

namespace ToolNet.Protocol.Yamux;

/// <summary>
/// The receive memory of one connection (<see cref="YamuxOptions.MaxConnectionReceiveBuffer"/>): every byte of
/// receive window a stream grants the remote is reserved here first, and given back once the stream can no longer
/// receive and the application has consumed or dropped what it buffered. Thread-safe (lock-free): the read loop
/// reserves for new inbound streams, the application's threads for outbound streams and for window growth, and
/// release whatever they end.
/// </summary>
internal sealed class YamuxReceiveBudget
{
    private readonly long _capacity;
    private readonly long _growthLimit;
    private long _reserved;

    /// <summary>A budget of <paramref name="capacity"/> bytes, nothing reserved.</summary>
    public YamuxReceiveBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;

        // Window growth is optional, a stream's initial window is not: growth leaves a quarter of the budget free so
        // that a few bulk transfers cannot starve new streams (identify, ping) of their initial windows.
        _growthLimit = capacity - (capacity / 4);
    }

    /// <summary>The bytes that may be reserved at most.</summary>
    public long Capacity => _capacity;

    /// <summary>The bytes reserved now.</summary>
    public long Reserved => Volatile.Read(ref _reserved);

    /// <summary>Reserves <paramref name="bytes"/> for a new stream's initial window; false, reserving nothing,
    /// when that would exceed the capacity.</summary>
    public bool TryReserve(long bytes) => TryReserve(bytes, _capacity);

    /// <summary>Reserves <paramref name="bytes"/> to grow a window; false, reserving nothing, when that would leave
    /// less than a quarter of the capacity free.</summary>
    public bool TryReserveGrowth(long bytes) => TryReserve(bytes, _growthLimit);

    /// <summary>Gives back <paramref name="bytes"/> reserved before.</summary>
    public void Release(long bytes)
    {
        var after = Interlocked.Add(ref _reserved, -bytes);
        Debug.Assert(after >= 0, "released more than was reserved");
    }

    private bool TryReserve(long bytes, long limit)
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
