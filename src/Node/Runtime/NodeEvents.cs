using System.Threading.Channels;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Node.Runtime;

/// <summary>Something that happened to the node, as its subsystems report it. Readers switch on the type.</summary>
internal abstract record NodeEvent;

/// <summary>What AutoNAT concluded about our reachability.</summary>
internal enum Reachability
{
    Unknown,
    Public,
    Private,
}

/// <summary>Our reachability changed.</summary>
internal sealed record ReachabilityChanged(Reachability Reachability) : NodeEvent;

/// <summary>A relay granted or renewed a reservation: we are reachable at <paramref name="Addresses"/> until
/// <paramref name="Expires"/>.</summary>
internal sealed record ReservationMade(PeerId Relay, IReadOnlyList<Multiaddr> Addresses, DateTimeOffset Expires) : NodeEvent;

/// <summary>A reservation was lost (the relay refused a renewal, disconnected, or we stopped).</summary>
internal sealed record ReservationLost(PeerId Relay, string Reason) : NodeEvent;

/// <summary>A connection to a peer opened; relayed ones are limited. A direct connection to a peer we reached
/// through a relay is how a successful hole punch shows.</summary>
internal sealed record ConnectionOpened(PeerId Peer, Multiaddr Address, bool Relayed) : NodeEvent;

/// <summary>A hole punch with a peer ended.</summary>
internal sealed record HolePunchFinished(PeerId Peer, bool Succeeded, Multiaddr? Address, int Attempts) : NodeEvent;

/// <summary>
/// The node's one event stream: subsystems publish, each reader subscribes and gets every event published after it
/// subscribed, in order. A reader that falls more than its capacity behind loses the oldest events it has not read
/// (counted in <see cref="NodeEventSubscription.Dropped"/>) rather than holding the publishers up.
/// </summary>
internal sealed class NodeEvents
{
    private readonly Lock _sync = new();
    private NodeEventSubscription[] _subscriptions = [];

    /// <summary>Delivers <paramref name="nodeEvent"/> to every current subscriber; never blocks.</summary>
    public void Publish(NodeEvent nodeEvent)
    {
        ArgumentNullException.ThrowIfNull(nodeEvent);
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Deliver(nodeEvent);
        }
    }

    /// <summary>Starts receiving events; dispose the subscription to stop.</summary>
    public NodeEventSubscription Subscribe(int capacity = 1024)
    {
        var subscription = new NodeEventSubscription(this, capacity);
        lock (_sync)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    internal void Unsubscribe(NodeEventSubscription subscription)
    {
        lock (_sync)
        {
            _subscriptions = [.. _subscriptions.Where(s => s != subscription)];
        }
    }
}

/// <summary>One reader's view of <see cref="NodeEvents"/>.</summary>
internal sealed class NodeEventSubscription : IDisposable
{
    private readonly NodeEvents _events;
    private readonly Channel<NodeEvent> _channel;
    private long _dropped;

    internal NodeEventSubscription(NodeEvents events, int capacity)
    {
        _events = events;
        _channel = Channel.CreateBounded<NodeEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>The events, in publication order; completes when the subscription is disposed.</summary>
    public ChannelReader<NodeEvent> Reader => _channel.Reader;

    /// <summary>Events this reader lost by falling behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Dispose()
    {
        _events.Unsubscribe(this);
        _channel.Writer.TryComplete();
    }

    internal void Deliver(NodeEvent nodeEvent) => _channel.Writer.TryWrite(nodeEvent);
}
