namespace ToolNet.Protocol.Yamux;

/// <summary>Opening a stream failed because the connection's receive budget
/// (<see cref="YamuxOptions.MaxConnectionReceiveBuffer"/>) cannot cover the new stream's initial receive window. The
/// session stays usable: ending or reading other streams frees room.</summary>
public sealed class YamuxReceiveBudgetExceededException : IOException
{
    /// <summary>An exception for a window of <paramref name="windowSize"/> bytes that did not fit while
    /// <paramref name="reserved"/> of <paramref name="capacity"/> bytes were reserved.</summary>
    public YamuxReceiveBudgetExceededException(long windowSize, long reserved, long capacity)
        : base($"the yamux connection's receive budget cannot cover another stream's initial window of {windowSize} bytes ({reserved} of {capacity} bytes reserved)")
    {
        WindowSize = windowSize;
        Reserved = reserved;
        Capacity = capacity;
    }

    /// <summary>The initial window that did not fit.</summary>
    public long WindowSize { get; }

    /// <summary>The bytes reserved when the open failed.</summary>
    public long Reserved { get; }

    /// <summary>The connection's budget.</summary>
    public long Capacity { get; }
}
