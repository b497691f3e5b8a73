using System.Net;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.WebSocket;

/// <summary>The WebSocket transport's log messages.</summary>
internal static partial class WebSocketLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Refused a WebSocket upgrade from {Remote}: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, EndPoint? remote, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "A WebSocket handshake on {Address} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, Multiaddr address, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "The WebSocket listener on {Address} stopped accepting")]
    public static partial void ListenerStopped(ILogger logger, Multiaddr address, Exception exception);
}
