using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>The Kademlia log messages (source-generated).</summary>
internal static partial class KadLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT: refused a record from {Peer}: {Reason}")]
    public static partial void RecordRefused(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT: refused a provider announcement from {Peer}: {Reason}")]
    public static partial void ProviderRefused(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT: {Request} to {Peer} failed: {Reason}")]
    public static partial void RequestFailed(ILogger logger, KadMessageType request, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT: closed a stream from {Peer} idle for {Idle}")]
    public static partial void IdleStreamClosed(ILogger logger, PeerId peer, TimeSpan idle);

    [LoggerMessage(Level = LogLevel.Information, Message = "DHT: bootstrap reached {Answered} of {Asked} peers; routing table holds {Size}")]
    public static partial void Bootstrapped(ILogger logger, int answered, int asked, int size);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DHT: bootstrap reached no peer; retrying in {Delay}")]
    public static partial void BootstrapRetry(ILogger logger, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DHT: background {Task} failed: {Reason}")]
    public static partial void BackgroundFailed(ILogger logger, string task, string reason);
}
