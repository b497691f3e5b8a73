namespace ToolNet.Protocol.PubSub;

/// <summary>
/// The message cache of gossipsub-v1.0.md "Message Cache": the messages of the last <c>historyLength</c>
/// heartbeats, in windows, of which the newest <c>historyGossip</c> are announced in IHAVE gossip and all may be
/// retrieved by IWANT. Also counts how often each peer has asked for each message. Not thread-safe.
/// </summary>
internal sealed class MessageCache
{
    private readonly Dictionary<MessageId, Entry> _messages = [];
    private readonly LinkedList<List<(MessageId Id, string Topic)>> _windows = new();
    private readonly int _historyGossip;
    private readonly int _historyLength;

    public MessageCache(int historyGossip, int historyLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(historyLength, historyGossip);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(historyGossip);
        _historyGossip = historyGossip;
        _historyLength = historyLength;
        _windows.AddFirst([]);
    }

    public int Count => _messages.Count;

    public void Put(MessageId id, PubSubMessage message)
    {
        if (_messages.TryAdd(id, new Entry(message)))
        {
            _windows.First!.Value.Add((id, message.Topic));
        }
    }

    public bool TryGet(MessageId id, out PubSubMessage message)
    {
        if (_messages.TryGetValue(id, out var entry))
        {
            message = entry.Message;
            return true;
        }

        message = null!;
        return false;
    }

    /// <summary>Returns the message for <paramref name="peer"/>'s IWANT and counts the request; false once the peer
    /// has asked <paramref name="maxTransmissions"/> times (or the message is gone).</summary>
    public bool TryGetForPeer(MessageId id, Peers.PeerId peer, int maxTransmissions, out PubSubMessage message)
    {
        message = null!;
        if (!_messages.TryGetValue(id, out var entry))
        {
            return false;
        }

        entry.Requests ??= [];
        entry.Requests.TryGetValue(peer, out var count);
        if (count >= maxTransmissions)
        {
            return false;
        }

        entry.Requests[peer] = count + 1;
        message = entry.Message;
        return true;
    }

    /// <summary>The ids of <paramref name="topic"/> in the gossip windows, newest first.</summary>
    public List<MessageId> GossipIds(string topic)
    {
        var ids = new List<MessageId>();
        var window = _windows.First;
        for (var i = 0; i < _historyGossip && window is not null; i++, window = window.Next)
        {
            foreach (var (id, entryTopic) in window.Value)
            {
                if (entryTopic == topic)
                {
                    ids.Add(id);
                }
            }
        }

        return ids;
    }

    /// <summary>Starts a new window (once per heartbeat), dropping the oldest beyond the history length.</summary>
    public void Shift()
    {
        while (_windows.Count >= _historyLength)
        {
            foreach (var (id, _) in _windows.Last!.Value)
            {
                _messages.Remove(id);
            }

            _windows.RemoveLast();
        }

        _windows.AddFirst([]);
    }

    private sealed class Entry(PubSubMessage message)
    {
        public PubSubMessage Message { get; } = message;

        public Dictionary<Peers.PeerId, int>? Requests { get; set; }
    }
}
