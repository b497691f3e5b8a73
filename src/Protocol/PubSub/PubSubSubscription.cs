using System.Threading.Channels;

namespace ToolNet.Protocol.PubSub;

/// <summary>
/// One subscriber's view of a topic (<see cref="PubSubService.Subscribe"/>): the messages that passed validation, in
/// arrival order, each once. Disposing it unsubscribes; when a topic's last subscription goes, we leave the topic.
/// </summary>
public sealed class PubSubSubscription : IDisposable
{
    private readonly Channel<PubSubMessage> _messages;
    private readonly Action<PubSubSubscription> _unsubscribe;
    private readonly PubSubCounters _counters;
    private int _disposed;

    internal PubSubSubscription(string topic, MessageValidator? validator, int bufferSize, PubSubCounters counters, Action<PubSubSubscription> unsubscribe)
    {
        Topic = topic;
        Validator = validator;
        _counters = counters;
        _unsubscribe = unsubscribe;
        _messages = Channel.CreateBounded<PubSubMessage>(
            new BoundedChannelOptions(bufferSize) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = false, SingleWriter = false },
            _ => _counters.DroppedSubscriptionMessage());
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    internal MessageValidator? Validator { get; }

    /// <summary>The messages, until the subscription is disposed (or the service stops).</summary>
    public IAsyncEnumerable<PubSubMessage> ReadAllAsync(CancellationToken cancellationToken = default) => _messages.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Waits for the next message.</summary>
    /// <exception cref="ChannelClosedException">The subscription was disposed.</exception>
    public ValueTask<PubSubMessage> ReadAsync(CancellationToken cancellationToken = default) => _messages.Reader.ReadAsync(cancellationToken);

    /// <summary>Takes a message if one is waiting.</summary>
    public bool TryRead(out PubSubMessage message) => _messages.Reader.TryRead(out message!);

    /// <summary>Unsubscribes (once) and ends <see cref="ReadAllAsync"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _unsubscribe(this);
            Complete();
        }
    }

    internal void Deliver(PubSubMessage message) => _messages.Writer.TryWrite(message);

    internal void Complete() => _messages.Writer.TryComplete();
}
