using System.Net;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

/// <summary>
/// The v1.1 peer score (gossipsub-v1.1.md "Peer Scoring"): counters per peer and topic, decayed every
/// <see cref="PeerScoreParameters.DecayInterval"/>, combined by the score function
/// <c>TopicCap(Σ tᵢ(w₁P₁ + w₂P₂ + w₃P₃ + w₃ᵦP₃ᵦ + w₄P₄)) + w₅P₅ + w₆P₆ + w₇P₇</c>.
/// Not thread-safe: the router calls it under its lock.
/// </summary>
internal sealed class PeerScore(PeerScoreParameters parameters, TimeProvider clock)
{
    private readonly Dictionary<PeerId, PeerStats> _peers = [];
    private readonly Dictionary<IPAddress, HashSet<PeerId>> _peersByAddress = [];
    private readonly Dictionary<MessageId, DeliveryRecord> _deliveries = [];

    public PeerScoreParameters Parameters => parameters;

    /// <summary>The score of <paramref name="peer"/> now (0 for a peer we know nothing about).</summary>
    public double Score(PeerId peer)
    {
        if (!_peers.TryGetValue(peer, out var stats))
        {
            return 0;
        }

        var now = clock.GetUtcNow();
        double topicScore = 0;
        foreach (var (topic, topicStats) in stats.Topics)
        {
            if (parameters.ForTopic(topic) is not { } p)
            {
                continue;
            }

            double score = 0;
            if (topicStats.InMesh)
            {
                var quanta = (now - topicStats.GraftTime) / p.TimeInMeshQuantum;
                score += p.TimeInMeshWeight * Math.Min(quanta, p.TimeInMeshCap);
            }

            score += p.FirstMessageDeliveriesWeight * topicStats.FirstMessageDeliveries;
            if (topicStats.InMesh && now - topicStats.GraftTime >= p.MeshMessageDeliveriesActivation
                && topicStats.MeshMessageDeliveries < p.MeshMessageDeliveriesThreshold)
            {
                var deficit = p.MeshMessageDeliveriesThreshold - topicStats.MeshMessageDeliveries;
                score += p.MeshMessageDeliveriesWeight * deficit * deficit;
            }

            score += p.MeshFailurePenaltyWeight * topicStats.MeshFailurePenalty;
            score += p.InvalidMessageDeliveriesWeight * topicStats.InvalidMessageDeliveries * topicStats.InvalidMessageDeliveries;
            topicScore += p.TopicWeight * score;
        }

        var total = topicScore > 0 ? Math.Min(topicScore, parameters.TopicScoreCap) : topicScore;
        total += parameters.AppSpecificWeight * (parameters.AppSpecificScore?.Invoke(peer) ?? 0);
        total += parameters.IPColocationFactorWeight * ColocationFactor(stats);
        if (stats.BehaviourPenalty > parameters.BehaviourPenaltyThreshold)
        {
            var excess = stats.BehaviourPenalty - parameters.BehaviourPenaltyThreshold;
            total += parameters.BehaviourPenaltyWeight * excess * excess;
        }

        return total;
    }

    /// <summary>A peer connected (again: its retained counters come back).</summary>
    public void AddPeer(PeerId peer, IPAddress? address)
    {
        var stats = GetOrAdd(peer);
        stats.Connected = true;
        if (address is not null && !parameters.IPColocationExempt(address))
        {
            stats.Address = address;
            if (!_peersByAddress.TryGetValue(address, out var sharing))
            {
                _peersByAddress[address] = sharing = [];
            }

            sharing.Add(peer);
        }
    }

    /// <summary>A peer disconnected: its counters are kept for <see cref="PeerScoreParameters.RetainScore"/> if its
    /// score is negative, so that reconnecting does not wash it clean; otherwise forgotten.</summary>
    public void RemovePeer(PeerId peer)
    {
        if (!_peers.TryGetValue(peer, out var stats))
        {
            return;
        }

        if (stats.Address is not null && _peersByAddress.TryGetValue(stats.Address, out var sharing))
        {
            sharing.Remove(peer);
            if (sharing.Count == 0)
            {
                _peersByAddress.Remove(stats.Address);
            }
        }

        if (Score(peer) >= 0)
        {
            _peers.Remove(peer);
            return;
        }

        foreach (var topicStats in stats.Topics.Values)
        {
            topicStats.InMesh = false;
        }

        stats.Connected = false;
        stats.Address = null;
        stats.Expires = clock.GetUtcNow() + parameters.RetainScore;
    }

    public void Graft(PeerId peer, string topic)
    {
        var topicStats = GetOrAdd(peer).Topic(topic);
        topicStats.InMesh = true;
        topicStats.GraftTime = clock.GetUtcNow();
        topicStats.MeshMessageDeliveries = 0;
    }

    /// <summary>The peer left the mesh: a delivery deficit it had becomes a sticky mesh failure penalty (P3b).</summary>
    public void Prune(PeerId peer, string topic)
    {
        if (!_peers.TryGetValue(peer, out var stats) || !stats.Topics.TryGetValue(topic, out var topicStats))
        {
            return;
        }

        if (parameters.ForTopic(topic) is { } p && topicStats.InMesh
            && clock.GetUtcNow() - topicStats.GraftTime >= p.MeshMessageDeliveriesActivation
            && topicStats.MeshMessageDeliveries < p.MeshMessageDeliveriesThreshold)
        {
            var deficit = p.MeshMessageDeliveriesThreshold - topicStats.MeshMessageDeliveries;
            topicStats.MeshFailurePenalty += deficit * deficit;
        }

        topicStats.InMesh = false;
    }

    /// <summary>Adds to P7 (GRAFT during backoff, broken IWANT promises, IWANT floods).</summary>
    public void AddPenalty(PeerId peer, int count) => GetOrAdd(peer).BehaviourPenalty += count;

    /// <summary>A message is being validated: the first peer to deliver it is recorded.</summary>
    public void ValidationStarted(PeerId from, MessageId id)
    {
        if (!_deliveries.ContainsKey(id))
        {
            _deliveries[id] = new DeliveryRecord(clock.GetUtcNow(), from);
        }
    }

    /// <summary>The message validated: the first deliverer earns P2 and P3, peers that sent it meanwhile earn P3.</summary>
    public void Delivered(PeerId from, MessageId id, string topic)
    {
        var record = GetRecord(id, from);
        record.Status = DeliveryStatus.Valid;
        record.Validated = clock.GetUtcNow();
        if (parameters.ForTopic(topic) is not { } p)
        {
            return;
        }

        var topicStats = GetOrAdd(from).Topic(topic);
        topicStats.FirstMessageDeliveries = Math.Min(topicStats.FirstMessageDeliveries + 1, p.FirstMessageDeliveriesCap);
        AddMeshDelivery(topicStats, p);
        foreach (var peer in record.Peers)
        {
            if (peer != from && _peers.TryGetValue(peer, out var stats) && stats.Topics.TryGetValue(topic, out var other))
            {
                AddMeshDelivery(other, p);
            }
        }
    }

    /// <summary>The message was rejected: the peer that sent it, and those that sent it meanwhile, earn P4.</summary>
    public void Rejected(PeerId from, MessageId? id, string topic)
    {
        if (parameters.ForTopic(topic) is null)
        {
            return;
        }

        GetOrAdd(from).Topic(topic).InvalidMessageDeliveries++;
        if (id is not { } known)
        {
            return;
        }

        var record = GetRecord(known, from);
        record.Status = DeliveryStatus.Invalid;
        foreach (var peer in record.Peers)
        {
            if (peer != from)
            {
                GetOrAdd(peer).Topic(topic).InvalidMessageDeliveries++;
            }
        }
    }

    /// <summary>The message was ignored by validation: nobody earns or loses anything for it.</summary>
    public void Ignored(PeerId from, MessageId id) => GetRecord(id, from).Status = DeliveryStatus.Ignored;

    /// <summary>A duplicate arrived from <paramref name="from"/>.</summary>
    public void Duplicate(PeerId from, MessageId id, string topic)
    {
        if (!_deliveries.TryGetValue(id, out var record) || !record.Peers.Add(from))
        {
            return;
        }

        switch (record.Status)
        {
            case DeliveryStatus.Valid when parameters.ForTopic(topic) is { } p && clock.GetUtcNow() - record.Validated <= p.MeshMessageDeliveriesWindow:
                AddMeshDelivery(GetOrAdd(from).Topic(topic), p);
                break;
            case DeliveryStatus.Invalid when parameters.ForTopic(topic) is not null:
                GetOrAdd(from).Topic(topic).InvalidMessageDeliveries++;
                break;
        }
    }

    /// <summary>Decays every counter once and forgets expired retained peers and delivery records.</summary>
    public void Decay(TimeSpan deliveryRecordTtl)
    {
        var now = clock.GetUtcNow();
        var zero = parameters.DecayToZero;
        List<PeerId>? expired = null;
        foreach (var (peer, stats) in _peers)
        {
            if (!stats.Connected && stats.Expires <= now)
            {
                (expired ??= []).Add(peer);
                continue;
            }

            foreach (var (topic, topicStats) in stats.Topics)
            {
                if (parameters.ForTopic(topic) is not { } p)
                {
                    continue;
                }

                topicStats.FirstMessageDeliveries = Decayed(topicStats.FirstMessageDeliveries, p.FirstMessageDeliveriesDecay, zero);
                topicStats.MeshMessageDeliveries = Decayed(topicStats.MeshMessageDeliveries, p.MeshMessageDeliveriesDecay, zero);
                topicStats.MeshFailurePenalty = Decayed(topicStats.MeshFailurePenalty, p.MeshFailurePenaltyDecay, zero);
                topicStats.InvalidMessageDeliveries = Decayed(topicStats.InvalidMessageDeliveries, p.InvalidMessageDeliveriesDecay, zero);
            }

            stats.BehaviourPenalty = Decayed(stats.BehaviourPenalty, parameters.BehaviourPenaltyDecay, zero);
        }

        foreach (var peer in expired ?? [])
        {
            _peers.Remove(peer);
        }

        List<MessageId>? old = null;
        foreach (var (id, record) in _deliveries)
        {
            if (now - record.FirstSeen > deliveryRecordTtl)
            {
                (old ??= []).Add(id);
            }
        }

        foreach (var id in old ?? [])
        {
            _deliveries.Remove(id);
        }
    }

    private static double Decayed(double value, double decay, double zero)
    {
        var decayed = value * decay;
        return decayed < zero ? 0 : decayed;
    }

    private static void AddMeshDelivery(TopicStats topicStats, TopicScoreParameters p)
    {
        if (topicStats.InMesh)
        {
            topicStats.MeshMessageDeliveries = Math.Min(topicStats.MeshMessageDeliveries + 1, p.MeshMessageDeliveriesCap);
        }
    }

    private double ColocationFactor(PeerStats stats)
    {
        if (stats.Address is null || !_peersByAddress.TryGetValue(stats.Address, out var sharing) || sharing.Count <= parameters.IPColocationFactorThreshold)
        {
            return 0;
        }

        double excess = sharing.Count - parameters.IPColocationFactorThreshold;
        return excess * excess;
    }

    private DeliveryRecord GetRecord(MessageId id, PeerId from)
    {
        if (!_deliveries.TryGetValue(id, out var record))
        {
            _deliveries[id] = record = new DeliveryRecord(clock.GetUtcNow(), from);
        }

        return record;
    }

    private PeerStats GetOrAdd(PeerId peer)
    {
        if (!_peers.TryGetValue(peer, out var stats))
        {
            _peers[peer] = stats = new PeerStats();
        }

        return stats;
    }

    private enum DeliveryStatus
    {
        Unknown,
        Valid,
        Invalid,
        Ignored,
    }

    private sealed class DeliveryRecord(DateTimeOffset firstSeen, PeerId firstPeer)
    {
        public DateTimeOffset FirstSeen { get; } = firstSeen;

        public DateTimeOffset Validated { get; set; }

        public DeliveryStatus Status { get; set; }

        public HashSet<PeerId> Peers { get; } = [firstPeer];
    }

    private sealed class PeerStats
    {
        public Dictionary<string, TopicStats> Topics { get; } = [];

        public bool Connected { get; set; }

        public DateTimeOffset Expires { get; set; }

        public IPAddress? Address { get; set; }

        public double BehaviourPenalty { get; set; }

        public TopicStats Topic(string topic)
        {
            if (!Topics.TryGetValue(topic, out var stats))
            {
                Topics[topic] = stats = new TopicStats();
            }

            return stats;
        }
    }

    private sealed class TopicStats
    {
        public bool InMesh { get; set; }

        public DateTimeOffset GraftTime { get; set; }

        public double FirstMessageDeliveries { get; set; }

        public double MeshMessageDeliveries { get; set; }

        public double MeshFailurePenalty { get; set; }

        public double InvalidMessageDeliveries { get; set; }
    }
}
