using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ToolNet.Protocol.Core;

/// <summary>The stream plumbing every protocol service shares: run an outbound exchange on a new stream, serve an
/// inbound one, keep a handler registered.</summary>
internal static partial class ProtocolStreams
{
    /// <summary>Opens a stream for <paramref name="protocol"/> on <paramref name="connection"/>, runs
    /// <paramref name="exchange"/> on it and disposes it; a failed exchange resets the stream first.</summary>
    public static Task<T> RunAsync<T>(
        IConnection connection, string protocol, Func<IStream, CancellationToken, ValueTask<T>> exchange, CancellationToken cancellationToken) =>
        RunAsync(connection, [protocol], exchange, cancellationToken);

    /// <summary>Opens a stream for the first of <paramref name="protocols"/> the remote supports, runs
    /// <paramref name="exchange"/> on it and disposes it; a failed exchange resets the stream first.</summary>
    public static async Task<T> RunAsync<T>(
        IConnection connection, IReadOnlyList<string> protocols, Func<IStream, CancellationToken, ValueTask<T>> exchange, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var stream = await connection.NewStreamAsync(protocols, cancellationToken);
        await using (stream)
        {
            try
            {
                return await exchange(stream, cancellationToken);
            }
            catch
            {
                stream.Reset();
                throw;
            }
        }
    }

    /// <summary>
    /// Serves an inbound stream: runs <paramref name="serve"/>, then half-closes. A remote that breaks the protocol
    /// (<see cref="WireFormatException"/>) is logged as a warning, a failed or cancelled stream at debug level, and
    /// either way the stream is reset; nothing propagates to the host.
    /// </summary>
    public static async Task ServeAsync(IStream stream, Func<IStream, CancellationToken, ValueTask> serve, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await serve(stream, cancellationToken);
            await stream.CloseWriteAsync(cancellationToken);
        }
        catch (WireFormatException ex)
        {
            LogProtocolViolation(logger, stream.Protocol, stream.Connection.RemotePeer, ex.Message);
            stream.Reset();
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            LogStreamFailed(logger, stream.Protocol, stream.Connection.RemotePeer, ex.Message);
            stream.Reset();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Protocol} stream from {Peer} broke the protocol; resetting it: {Reason}")]
    private static partial void LogProtocolViolation(ILogger logger, string protocol, Peers.PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Protocol} stream from {Peer} failed: {Reason}")]
    private static partial void LogStreamFailed(ILogger logger, string protocol, Peers.PeerId peer, string reason);
}

/// <summary>Keeps one protocol's handler registered on a host until disposed.</summary>
internal sealed class HandlerRegistration : IDisposable
{
    private readonly IHost _host;
    private readonly string _protocol;
    private int _disposed;

    public HandlerRegistration(IHost host, string protocol, StreamHandler handler, StreamHandlerOptions? options)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _protocol = protocol;
        host.SetStreamHandler(protocol, handler, options);
    }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Registers a handler that serves each inbound stream with <paramref name="serve"/> through
    /// <see cref="ProtocolStreams.ServeAsync"/> (half-close after, reset and log on failure).</summary>
    public static HandlerRegistration ForSession(
        IHost host, string protocol, Func<IStream, CancellationToken, ValueTask> serve, StreamHandlerOptions? options, ILogger? logger)
    {
        var log = logger ?? NullLogger.Instance;
        return new HandlerRegistration(host, protocol, (stream, cancellationToken) => ProtocolStreams.ServeAsync(stream, serve, log, cancellationToken), options);
    }

    /// <summary>Removes the handler (once); streams under way finish.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _host.RemoveStreamHandler(_protocol);
        }
    }
}
