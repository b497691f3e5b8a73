using Microsoft.Extensions.Logging;

namespace ToolNet.Protocol.Yamux;

/// <summary>The session's log messages (source-generated, nothing evaluated when the level is off).</summary>
internal static partial class YamuxLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "yamux: closing the connection, the remote broke the protocol: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "yamux: the remote sent go-away with code {Code}")]
    public static partial void RemoteGoAway(ILogger logger, uint code);

    [LoggerMessage(Level = LogLevel.Debug, Message = "yamux: refusing inbound stream {StreamId}: {Reason}")]
    public static partial void InboundStreamRefused(ILogger logger, uint streamId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "yamux: the remote closed the connection")]
    public static partial void RemoteClosed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "yamux: the connection failed while reading")]
    public static partial void ReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "yamux: the connection failed while writing")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "yamux: closing the connection: {Reason}")]
    public static partial void KeepAliveTimedOut(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "yamux: keep-alive failed")]
    public static partial void KeepAliveFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "yamux: the session loop failed")]
    public static partial void SessionFailed(ILogger logger, Exception exception);
}
