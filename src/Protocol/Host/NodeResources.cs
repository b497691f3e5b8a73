using System.Diagnostics;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Host;

/// <summary>
/// The node-wide scope every connection's muxer draws on (<see cref="ResourceLimits.MaxReceiveMemory"/>,
/// <see cref="ResourceLimits.MaxStreams"/>), and the sink of the muxers' stream refusals into the host's counters.
/// Lock-free. Like a connection's yamux budget, window growth may only use three quarters of the memory, so that bulk
/// transfers on some connections cannot starve new streams (identify, ping) on all the others.
/// </summary>
internal sealed class NodeResources : IMuxerResources
{
    private readonly long _memoryCapacity;
    private readonly long _growthLimit;
    private readonly int _maxStreams;
    private readonly HostCounters _counters;
    private long _memoryReserved;
    private int _streams;

    public NodeResources(ResourceLimits limits, HostCounters counters)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxReceiveMemory, nameof(limits.MaxReceiveMemory));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxStreams, nameof(limits.MaxStreams));
        _memoryCapacity = limits.MaxReceiveMemory;
        _growthLimit = _memoryCapacity - (_memoryCapacity / 4);
        _maxStreams = limits.MaxStreams;
        _counters = counters;
    }

    /// <summary>The receive memory reserved now, over all connections.</summary>
    public long ReservedReceiveMemory => Volatile.Read(ref _memoryReserved);

    /// <summary>The streams open now, over all connections.</summary>
    public int StreamCount => Volatile.Read(ref _streams);

    public bool TryReserveReceiveMemory(long bytes, bool growth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var limit = growth ? _growthLimit : _memoryCapacity;
        var current = Volatile.Read(ref _memoryReserved);
        while (current + bytes <= limit)
        {
            var seen = Interlocked.CompareExchange(ref _memoryReserved, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    public void ReleaseReceiveMemory(long bytes)
    {
        var after = Interlocked.Add(ref _memoryReserved, -bytes);
        Debug.Assert(after >= 0, "released more receive memory than was reserved");
    }

    public bool TryAddStream()
    {
        if (Interlocked.Increment(ref _streams) > _maxStreams)
        {
            Interlocked.Decrement(ref _streams);
            return false;
        }

        return true;
    }

    public void RemoveStream()
    {
        var after = Interlocked.Decrement(ref _streams);
        Debug.Assert(after >= 0, "removed more streams than were added");
    }

    // The muxer logs each refusal with its connection and reason (Debug); a stream flood must not flood the log twice.
    public void CountRefusedStream(StreamRefusal refusal)
    {
        var (reason, scope) = refusal switch
        {
            StreamRefusal.ConnectionStreamLimit => (Refusal.StreamLimit, ResourceScope.Connection),
            StreamRefusal.ConnectionMemoryLimit => (Refusal.StreamMemoryLimit, ResourceScope.Connection),
            StreamRefusal.NodeStreamLimit => (Refusal.StreamLimit, ResourceScope.Node),
            StreamRefusal.NodeMemoryLimit => (Refusal.StreamMemoryLimit, ResourceScope.Node),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
        };
        _counters.Increment(reason, scope);
    }
}
