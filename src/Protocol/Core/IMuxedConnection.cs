namespace ToolNet.Protocol.Core;

/// <summary>A secure connection carrying many streams (Yamux today). Thread-safe.</summary>
public interface IMuxedConnection : IAsyncDisposable
{
    /// <summary>Opens a new outbound stream. Throws <see cref="IOException"/> when the connection is closed
    /// or the remote has sent go-away.</summary>
    ValueTask<IMuxedStream> OpenStreamAsync(CancellationToken cancellationToken = default);

    /// <summary>Waits for the next inbound stream; returns null once the connection has closed.</summary>
    ValueTask<IMuxedStream?> AcceptStreamAsync(CancellationToken cancellationToken = default);

    /// <summary>Completes when the connection has closed, for whatever reason; faults with the reason on error.</summary>
    Task Completion { get; }

    /// <summary>Graceful close: tells the remote no new streams will be accepted (go-away), then closes the transport.</summary>
    ValueTask CloseAsync(CancellationToken cancellationToken = default);
}
