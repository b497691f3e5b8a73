using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

/// <summary>The pubsub log messages (source-generated).</summary>
internal static partial class PubSubLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Pubsub RPC from {Peer} broke the protocol; resetting the stream: {Reason}")]
    public static partial void MalformedRpc(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub stream {Direction} {Peer} ended: {Reason}")]
    public static partial void StreamEnded(ILogger logger, string direction, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub peer {Peer} speaks {Protocol}")]
    public static partial void PeerAdded(ILogger logger, PeerId peer, string protocol);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub: rejected message {Id} on {Topic} from {Peer}: {Reason}")]
    public static partial void MessageRejected(ILogger logger, MessageId id, string topic, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub: ignoring RPC from graylisted {Peer} (score {Score})")]
    public static partial void Graylisted(ILogger logger, PeerId peer, double score);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub: GRAFT from {Peer} on {Topic} refused: {Reason}")]
    public static partial void GraftRefused(ILogger logger, PeerId peer, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub: dropped an RPC to {Peer}: its queue is full")]
    public static partial void QueueFull(ILogger logger, PeerId peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pubsub: peer exchange dial of {Peer} failed: {Reason}")]
    public static partial void PeerExchangeFailed(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pubsub: the heartbeat failed; the next one runs as usual")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pubsub: validator of {Topic} failed; ignoring the message: {Reason}")]
    public static partial void ValidatorFailed(ILogger logger, string topic, string reason);
}
