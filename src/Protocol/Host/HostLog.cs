using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

/// <summary>The host's log messages (source-generated: nothing is formatted unless the level is enabled).</summary>
internal static partial class HostLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "listening on {Address}/p2p/{Peer}")]
    public static partial void Listening(ILogger logger, Multiaddr address, PeerId peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped listening on {Address}")]
    public static partial void StoppedListening(ILogger logger, Multiaddr address);

    [LoggerMessage(Level = LogLevel.Information, Message = "refused ({Refusal}, {Scope}): {Reason}")]
    public static partial void Refused(ILogger logger, Refusal refusal, ResourceScope scope, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "refused ({Refusal}, {Scope}): {Reason}")]
    public static partial void RefusedAddress(ILogger logger, Refusal refusal, ResourceScope scope, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Connection} opened: {Direction} {Peer} at {Address} ({Security}, {Muxer})")]
    public static partial void ConnectionOpened(ILogger logger, string connection, Direction direction, PeerId peer, Multiaddr address, string security, string muxer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Connection} to {Peer} closed")]
    public static partial void ConnectionClosed(ILogger logger, string connection, PeerId peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Connection} closed with an error")]
    public static partial void ConnectionFailed(ILogger logger, string connection, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Connection}: accept loop ended")]
    public static partial void AcceptLoopEnded(ILogger logger, string connection, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Connection}: {Protocol} handler failed on stream {Stream}; resetting it")]
    public static partial void HandlerFailed(ILogger logger, string connection, string protocol, long stream, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "dial {Peer} at {Address} failed")]
    public static partial void DialAttemptFailed(ILogger logger, PeerId peer, Multiaddr address, Exception error);
}
