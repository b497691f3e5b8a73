namespace ToolNet.Protocol.Core;

/// <summary>
/// The node-wide scope a muxed connection draws on above its own limits: receive memory (every byte of receive window
/// granted to a remote, on all connections) and open streams; and where the connection reports each stream it
/// refused, so that the node counts refusals of every scope in one place. Thread-safe: all connections share one.
/// </summary>
public interface IMuxerResources
{
    /// <summary>Reserves <paramref name="bytes"/> of node-wide receive memory: a new stream's initial window, or, with
    /// <paramref name="growth"/>, the growth of a window (optional, so it may be refused earlier, to leave room for
    /// new streams). False, reserving nothing, when the node has no room.</summary>
    bool TryReserveReceiveMemory(long bytes, bool growth);

    /// <summary>Gives back receive memory reserved before.</summary>
    void ReleaseReceiveMemory(long bytes);

    /// <summary>Counts a new stream against the node's limit; false, counting nothing, when the node is full.</summary>
    bool TryAddStream();

    /// <summary>A stream counted by <see cref="TryAddStream"/> has ended.</summary>
    void RemoveStream();

    /// <summary>The connection refused a stream the remote opened (it answered the SYN with a reset).</summary>
    void CountRefusedStream(StreamRefusal refusal);
}

/// <summary>Why a muxer refused an inbound stream, and whose limit it was.</summary>
public enum StreamRefusal
{
    /// <summary>The connection had as many inbound streams as it allows.</summary>
    ConnectionStreamLimit,

    /// <summary>The connection's receive memory could not cover the new stream's initial window.</summary>
    ConnectionMemoryLimit,

    /// <summary>The node had as many streams as it allows.</summary>
    NodeStreamLimit,

    /// <summary>The node's receive memory could not cover the new stream's initial window.</summary>
    NodeMemoryLimit,
}

/// <summary>No node-wide limits and nobody counting: for a muxer used without a host (tests, benchmarks, tools).</summary>
public sealed class UnlimitedMuxerResources : IMuxerResources
{
    private UnlimitedMuxerResources()
    {
    }

    /// <summary>The one instance.</summary>
    public static UnlimitedMuxerResources Instance { get; } = new();

    /// <inheritdoc />
    public bool TryReserveReceiveMemory(long bytes, bool growth) => true;

    /// <inheritdoc />
    public void ReleaseReceiveMemory(long bytes)
    {
    }

    /// <inheritdoc />
    public bool TryAddStream() => true;

    /// <inheritdoc />
    public void RemoveStream()
    {
    }

    /// <inheritdoc />
    public void CountRefusedStream(StreamRefusal refusal)
    {
    }
}
