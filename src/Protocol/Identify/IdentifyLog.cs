using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Identify;

/// <summary>The identify log messages (source-generated, nothing evaluated while a level is off).</summary>
internal static partial class IdentifyLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Identify from {Peer}: dropping a signed peer record of another peer, {Other}")]
    public static partial void ForeignPeerRecord(ILogger logger, PeerId peer, PeerId other);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identify from {Peer}: dropping a signed peer record that does not verify: {Reason}")]
    public static partial void UnverifiablePeerRecord(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Identify from {Peer}: dropping an undecodable {Kind} address of {Length} bytes")]
    public static partial void UndecodableAddress(ILogger logger, PeerId peer, string kind, int length);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Identify from {Peer}: signed peer record seq {Seq} is not newer than the one held; keeping that")]
    public static partial void StalePeerRecord(ILogger logger, PeerId peer, ulong seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Malformed {Kind} message from {Peer}: {Reason}")]
    public static partial void MalformedMessage(ILogger logger, string kind, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring {Kind} message from {Peer} on connection {Connection}: {Reason}")]
    public static partial void IgnoredMessage(ILogger logger, string kind, PeerId peer, string connection, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Identify push after a change of our information failed: {Reason}")]
    public static partial void PushRoundFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Exchange} with {Peer} failed: {Reason}")]
    public static partial void ExchangeFailed(ILogger logger, string exchange, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Identify answer from {Peer} on connection {Connection} arrived after a push from it: keeping the pushed protocols")]
    public static partial void AnswerOvertakenByPush(ILogger logger, PeerId peer, string connection);
}
