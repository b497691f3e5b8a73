namespace ToolNet.Protocol.PubSub;

/// <summary>
/// The ids of messages seen in the last <c>ttl</c> (gossipsub-v1.0.md "seen_ttl"), so that each is delivered and
/// forwarded at most once. Expired ids are swept in insertion order. Not thread-safe.
/// </summary>
internal sealed class SeenCache(TimeSpan ttl, TimeProvider clock)
{
    private readonly Dictionary<MessageId, DateTimeOffset> _expiries = [];
    private readonly Queue<(MessageId Id, DateTimeOffset Expires)> _order = new();

    public int Count => _expiries.Count;

    public bool Contains(MessageId id) => _expiries.TryGetValue(id, out var expires) && expires > clock.GetUtcNow();

    /// <summary>Marks <paramref name="id"/> seen; false when it already was.</summary>
    public bool Add(MessageId id)
    {
        var now = clock.GetUtcNow();
        if (_expiries.TryGetValue(id, out var expires) && expires > now)
        {
            return false;
        }

        _expiries[id] = now + ttl;
        _order.Enqueue((id, now + ttl));
        return true;
    }

    /// <summary>Forgets expired ids.</summary>
    public void Sweep()
    {
        var now = clock.GetUtcNow();
        while (_order.TryPeek(out var oldest) && oldest.Expires <= now)
        {
            _order.Dequeue();
            if (_expiries.TryGetValue(oldest.Id, out var expires) && expires <= now)
            {
                _expiries.Remove(oldest.Id);
            }
        }
    }
}
