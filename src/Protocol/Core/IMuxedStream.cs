using System.IO.Pipelines;

namespace ToolNet.Protocol.Core;

/// <summary>
/// One bidirectional byte stream multiplexed over a secure connection. Reading is
/// <see cref="IDuplexPipe.Input"/>: it completes (IsCompleted) when the remote half-closes, and throws
/// <see cref="StreamResetException"/> when the remote resets. Writing is <see cref="IDuplexPipe.Output"/>:
/// completing it half-closes our side (the remote reads end-of-stream), exactly like <see cref="CloseWriteAsync"/>.
/// </summary>
public interface IMuxedStream : IDuplexPipe, IAsyncDisposable
{
    /// <summary>The muxer's stream id (unique within its connection).</summary>
    long Id { get; }

    /// <summary>Whether we or the remote opened the stream.</summary>
    Direction Direction { get; }

    /// <summary>Half-closes the stream: flushes what was written, then signals end-of-stream to the remote.
    /// Reading stays possible until the remote half-closes too.</summary>
    ValueTask CloseWriteAsync(CancellationToken cancellationToken = default);

    /// <summary>Aborts both directions at once; the remote sees a reset, buffered data is dropped.</summary>
    void Reset();
}

/// <summary>Thrown by a stream's reader or writer after the stream was reset, by either side.</summary>
public sealed class StreamResetException : IOException
{
    public StreamResetException()
        : base("the stream was reset")
    {
    }

    public StreamResetException(string message)
        : base(message)
    {
    }

    public StreamResetException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
