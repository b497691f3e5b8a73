using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

public sealed partial class PubSubService
{
    /// <summary>
    /// The heartbeat (gossipsub-v1.0.md "Heartbeat", with v1.1's scoring-aware mesh maintenance): expire state, apply
    /// penalties for broken promises, keep every mesh between D_lo and D_hi (negative scores out, D_score best kept,
    /// D_out outbound kept, opportunistic grafting), maintain fanout, emit IHAVE gossip, shift the message cache.
    /// GRAFTs, PRUNEs and IHAVEs to one peer travel in one RPC.
    /// </summary>
    private void Heartbeat()
    {
        if (_disposed != 0)
        {
            return;
        }

        try
        {
            RunHeartbeat();
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            // A timer callback that throws ends the process: a bug here must cost one heartbeat, not the node.
            PubSubLog.HeartbeatFailed(_logger, ex);
        }
    }

    private void RunHeartbeat()
    {
        var changes = new List<MeshChange>();
        lock (_lock)
        {
            var now = _clock.GetUtcNow();
            _heartbeatTicks++;
            var outgoing = new Dictionary<PubSubPeer, OutgoingControl>();
            ExpireState(now);
            foreach (var (topic, mesh) in _mesh)
            {
                MaintainMesh(topic, mesh, outgoing, changes);
                EmitGossip(topic, mesh, outgoing);
            }

            MaintainFanout(now, outgoing);
            _cache.Shift();
            foreach (var (peer, control) in outgoing)
            {
                Send(peer, new PubSubRpc { Control = control.Build() });
            }
        }

        RaiseMeshChanges(changes);
    }

    private void ExpireState(DateTimeOffset now)
    {
        _seen.Sweep();
        while (now - _lastDecay >= _options.Score.DecayInterval)
        {
            _score.Decay(_options.SeenTtl);
            _lastDecay += _options.Score.DecayInterval;
        }

        List<(PeerId, string)>? expired = null;
        foreach (var (key, until) in _backoff)
        {
            if (until <= now)
            {
                (expired ??= []).Add(key);
            }
        }

        foreach (var key in expired ?? [])
        {
            _backoff.Remove(key);
        }

        foreach (var peer in _peers.Values)
        {
            peer.IHaveCount = 0;
            peer.IAsked = 0;
            var broken = 0;
            foreach (var (id, due) in peer.Promises)
            {
                if (due <= now)
                {
                    peer.Promises.Remove(id);
                    broken++;
                }
            }

            if (broken > 0)
            {
                Counters.BrokenPromise(broken);
                _score.AddPenalty(peer.Id, broken);
            }

            foreach (var (id, until) in peer.DontWant)
            {
                if (until <= _heartbeatTicks)
                {
                    peer.DontWant.Remove(id);
                }
            }
        }
    }

    private void MaintainMesh(string topic, HashSet<PeerId> mesh, Dictionary<PubSubPeer, OutgoingControl> outgoing, List<MeshChange> changes)
    {
        // Peers with a negative score leave the mesh, without peer exchange.
        foreach (var peerId in mesh.ToList())
        {
            if (_score.Score(peerId) < 0)
            {
                PruneFromMesh(topic, mesh, peerId, withPeerExchange: false, outgoing, changes);
            }
        }

        if (mesh.Count < _options.DLow)
        {
            foreach (var peerId in SelectPeers(topic, _options.D - mesh.Count, p => IsGraftCandidate(p, topic, mesh)))
            {
                GraftToMesh(topic, mesh, peerId, outgoing, changes);
            }
        }

        if (mesh.Count > _options.DHigh)
        {
            // Keep the D_score best, fill up to D at random, then make sure D_out of those are outbound.
            var ranked = mesh.OrderByDescending(_score.Score).ToList();
            var keep = ranked.Take(_options.DScore).ToList();
            var rest = ranked.Skip(_options.DScore).ToList();
            Shuffle(rest);
            keep.AddRange(rest.Take(_options.D - keep.Count));
            var outboundKept = keep.Count(IsOutbound);
            if (outboundKept < _options.DOut)
            {
                foreach (var candidate in rest.Skip(_options.D - _options.DScore).Where(IsOutbound).Take(_options.DOut - outboundKept).ToList())
                {
                    var replace = keep.Skip(_options.DScore).LastOrDefault(p => !IsOutbound(p));
                    if (replace is not null)
                    {
                        keep.Remove(replace);
                    }

                    keep.Add(candidate);
                }
            }

            foreach (var peerId in mesh.Except(keep).ToList())
            {
                PruneFromMesh(topic, mesh, peerId, withPeerExchange: true, outgoing, changes);
            }
        }

        if (mesh.Count >= _options.DLow)
        {
            var outbound = mesh.Count(IsOutbound);
            if (outbound < _options.DOut)
            {
                foreach (var peerId in SelectPeers(topic, _options.DOut - outbound, p => p.Outbound && IsGraftCandidate(p, topic, mesh)))
                {
                    GraftToMesh(topic, mesh, peerId, outgoing, changes);
                }
            }
        }

        // gossipsub-v1.1.md "Opportunistic Grafting": when the mesh's median score is low, graft a couple of peers
        // that score above it, so that a mesh of poor peers can improve.
        if (_options.OpportunisticGraftTicks > 0 && _heartbeatTicks % _options.OpportunisticGraftTicks == 0 && mesh.Count > 1)
        {
            var scores = mesh.Select(_score.Score).Order().ToList();
            var median = scores[scores.Count / 2];
            if (median < _options.Score.Thresholds.OpportunisticGraft)
            {
                foreach (var peerId in SelectPeers(topic, _options.OpportunisticGraftPeers, p => IsGraftCandidate(p, topic, mesh) && _score.Score(p.Id) > median))
                {
                    GraftToMesh(topic, mesh, peerId, outgoing, changes);
                }
            }
        }
    }

    private bool IsOutbound(PeerId peerId) => _peers.TryGetValue(peerId, out var peer) && peer.Outbound;

    private bool IsGraftCandidate(PubSubPeer peer, string topic, HashSet<PeerId> mesh) =>
        !mesh.Contains(peer.Id) && !InBackoff(peer.Id, topic) && _score.Score(peer.Id) >= 0;

    private void GraftToMesh(string topic, HashSet<PeerId> mesh, PeerId peerId, Dictionary<PubSubPeer, OutgoingControl> outgoing, List<MeshChange> changes)
    {
        mesh.Add(peerId);
        _score.Graft(peerId, topic);
        Outgoing(outgoing, _peers[peerId]).Graft.Add(new ControlGraft(topic));
        changes.Add(new MeshChange(topic, peerId, Joined: true));
    }

    private void PruneFromMesh(string topic, HashSet<PeerId> mesh, PeerId peerId, bool withPeerExchange, Dictionary<PubSubPeer, OutgoingControl> outgoing, List<MeshChange> changes)
    {
        mesh.Remove(peerId);
        _score.Prune(peerId, topic);
        SetBackoff(peerId, topic, _options.PruneBackoff);
        if (_peers.TryGetValue(peerId, out var peer))
        {
            Outgoing(outgoing, peer).Prune.Add(MakePrune(peer, topic, _options.PruneBackoff, withPeerExchange));
        }

        changes.Add(new MeshChange(topic, peerId, Joined: false));
    }

    private void MaintainFanout(DateTimeOffset now, Dictionary<PubSubPeer, OutgoingControl> outgoing)
    {
        foreach (var (topic, published) in _fanoutLastPublished.ToList())
        {
            if (published + _options.FanoutTtl <= now)
            {
                _fanout.Remove(topic);
                _fanoutLastPublished.Remove(topic);
            }
        }

        var threshold = _options.Score.Thresholds.Publish;
        foreach (var (topic, fanout) in _fanout)
        {
            fanout.RemoveWhere(p => !_topicPeers.TryGetValue(topic, out var peers) || !peers.Contains(p) || _score.Score(p) < threshold);
            if (fanout.Count < _options.D)
            {
                fanout.UnionWith(SelectPeers(topic, _options.D - fanout.Count, p => !fanout.Contains(p.Id) && _score.Score(p.Id) >= threshold));
            }

            EmitGossip(topic, fanout, outgoing);
        }
    }

    /// <summary>IHAVE for the ids of the gossip windows to max(D_lazy, gossip factor × eligible) random topic peers
    /// outside <paramref name="exclude"/> above the gossip threshold (gossipsub-v1.1.md "Adaptive Gossip Dissemination").</summary>
    private void EmitGossip(string topic, HashSet<PeerId> exclude, Dictionary<PubSubPeer, OutgoingControl> outgoing)
    {
        var ids = _cache.GossipIds(topic);
        if (ids.Count == 0)
        {
            return;
        }

        var threshold = _options.Score.Thresholds.Gossip;
        var eligible = SelectPeers(topic, int.MaxValue, p => !exclude.Contains(p.Id) && _score.Score(p.Id) >= threshold);
        var count = Math.Max(_options.DLazy, (int)(_options.GossipFactor * eligible.Count));
        foreach (var peerId in eligible.Take(count))
        {
            var announced = ids;
            if (announced.Count > _options.MaxIHaveLength)
            {
                announced = [.. ids];
                Shuffle(announced);
                announced = announced[.._options.MaxIHaveLength];
            }

            Outgoing(outgoing, _peers[peerId]).IHave.Add(new ControlIHave(topic, announced));
        }
    }

    private static OutgoingControl Outgoing(Dictionary<PubSubPeer, OutgoingControl> outgoing, PubSubPeer peer)
    {
        if (!outgoing.TryGetValue(peer, out var control))
        {
            outgoing[peer] = control = new OutgoingControl();
        }

        return control;
    }

    /// <summary>The control collected for one peer during a heartbeat.</summary>
    private sealed class OutgoingControl
    {
        public List<ControlIHave> IHave { get; } = [];

        public List<ControlGraft> Graft { get; } = [];

        public List<ControlPrune> Prune { get; } = [];

        public ControlMessage Build() => new() { IHave = IHave, Graft = Graft, Prune = Prune };
    }
}
