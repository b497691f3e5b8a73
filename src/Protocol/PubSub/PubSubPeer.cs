using System.Threading.Channels;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

/// <summary>What the router knows about one connected pubsub peer. Fields change only under the router's lock,
/// except the queue, which is thread-safe.</summary>
internal sealed class PubSubPeer
{
    public PubSubPeer(PeerId id, bool outbound, int maxQueuedRpcs)
    {
        Id = id;
        Outbound = outbound;
        Queue = Channel.CreateBounded<PubSubRpc>(new BoundedChannelOptions(maxQueuedRpcs)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
    }

    public PeerId Id { get; }

    /// <summary>Whether we dialled the connection (the mesh keeps at least D_out such peers).</summary>
    public bool Outbound { get; }

    /// <summary>The protocol our outbound stream negotiated: what the peer speaks. Null until then.</summary>
    public string? Protocol { get; set; }

    /// <summary>RPCs waiting for the writer.</summary>
    public Channel<PubSubRpc> Queue { get; }

    /// <summary>Stops the writer when the peer goes.</summary>
    public CancellationTokenSource Lifetime { get; } = new();

    /// <summary>The topics the peer announced.</summary>
    public HashSet<string> Topics { get; } = new(StringComparer.Ordinal);

    /// <summary>Message ids the peer said it does not want, until the heartbeat count given (v1.2).</summary>
    public Dictionary<MessageId, long> DontWant { get; } = [];

    /// <summary>IWANT promises: ids the peer announced and we asked for, and when the delivery is due.</summary>
    public Dictionary<MessageId, DateTimeOffset> Promises { get; } = [];

    /// <summary>IHAVEs taken from the peer this heartbeat.</summary>
    public int IHaveCount { get; set; }

    /// <summary>Ids asked for from the peer this heartbeat.</summary>
    public int IAsked { get; set; }

    public bool SpeaksGossipSub => Protocol is PubSubService.MeshSubV12 or PubSubService.MeshSubV11 or PubSubService.MeshSubV10;

    /// <summary>v1.1 and later: peer exchange, backoff, scoring-aware behaviour.</summary>
    public bool SpeaksV11 => Protocol is PubSubService.MeshSubV12 or PubSubService.MeshSubV11;

    public bool SpeaksV12 => Protocol is PubSubService.MeshSubV12;

    public bool SpeaksFloodSub => Protocol is PubSubService.FloodSub;

    /// <summary>The stream the writer uses, for tests.</summary>
    public IStream? OutboundStream { get; set; }
}
