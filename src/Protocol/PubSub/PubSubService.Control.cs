using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.PubSub;

public sealed partial class PubSubService
{
    /// <summary>Handles the control part of an RPC and answers in one RPC (IWANT, requested messages, PRUNEs).</summary>
    private void HandleControl(PeerId from, ControlMessage control)
    {
        var changes = new List<MeshChange>();
        List<PeerExchangeInfo>? exchange = null;
        lock (_lock)
        {
            if (!_peers.TryGetValue(from, out var peer) || !peer.SpeaksGossipSub)
            {
                return;
            }

            var iwant = HandleIHave(peer, control.IHave);
            var messages = HandleIWant(peer, control.IWant);
            var prunes = HandleGraft(peer, control.Graft, changes);
            exchange = HandlePrune(peer, control.Prune, changes);
            HandleIDontWant(peer, control.IDontWant);
            var reply = new PubSubRpc
            {
                Messages = messages,
                Control = iwant.Count == 0 && prunes.Count == 0 ? null : new ControlMessage { IWant = iwant, Prune = prunes },
            };
            if (!reply.IsEmpty)
            {
                Send(peer, reply);
            }
        }

        RaiseMeshChanges(changes);
        if (exchange is { Count: > 0 })
        {
            Track(ConnectToExchangedPeersAsync(exchange));
        }
    }

    /// <summary>IHAVE: asks for announced messages we have not seen, within the per-heartbeat budgets
    /// (gossipsub-v1.1.md "max_ihave_messages", "max_ihave_length") and only from peers above the gossip threshold.</summary>
    private List<ControlIWant> HandleIHave(PubSubPeer peer, IReadOnlyList<ControlIHave> ihaves)
    {
        if (ihaves.Count == 0)
        {
            return [];
        }

        if (_score.Score(peer.Id) < _options.Score.Thresholds.Gossip)
        {
            foreach (var _ in ihaves)
            {
                Counters.IgnoredIHave();
            }

            return [];
        }

        var wanted = new List<MessageId>();
        var unique = new HashSet<MessageId>();
        foreach (var ihave in ihaves)
        {
            if (++peer.IHaveCount > _options.MaxIHaveMessages || peer.IAsked >= _options.MaxIHaveLength
                || ihave.Topic is null || !_mesh.ContainsKey(ihave.Topic))
            {
                Counters.IgnoredIHave();
                continue;
            }

            foreach (var id in ihave.MessageIds)
            {
                if (!_seen.Contains(id) && unique.Add(id))
                {
                    wanted.Add(id);
                }
            }
        }

        var budget = _options.MaxIHaveLength - peer.IAsked;
        if (wanted.Count == 0 || budget <= 0)
        {
            return [];
        }

        Shuffle(wanted);
        if (wanted.Count > budget)
        {
            wanted = wanted[..budget];
        }

        peer.IAsked += wanted.Count;

        // One promise per request, for a random id (gossipsub-v1.1.md "P7"): if the peer delivers none of them in
        // time, it advertised what it would not send.
        var promised = wanted[_random.Next(wanted.Count)];
        peer.Promises.TryAdd(promised, _clock.GetUtcNow() + _options.IWantFollowupTime);
        return [new ControlIWant(wanted)];
    }

    /// <summary>IWANT: sends the requested messages we still cache, each at most <see cref="PubSubOptions.GossipRetransmission"/>
    /// times to one peer, and nothing to peers below the gossip threshold.</summary>
    private List<PubSubMessage> HandleIWant(PubSubPeer peer, IReadOnlyList<ControlIWant> iwants)
    {
        var messages = new List<PubSubMessage>();
        if (iwants.Count == 0)
        {
            return messages;
        }

        var gossipAllowed = _score.Score(peer.Id) >= _options.Score.Thresholds.Gossip;
        var served = new HashSet<MessageId>();
        var ignored = 0;
        foreach (var iwant in iwants)
        {
            foreach (var id in iwant.MessageIds)
            {
                if (gossipAllowed && served.Add(id) && _cache.TryGetForPeer(id, peer.Id, _options.GossipRetransmission, out var message))
                {
                    messages.Add(message);
                }
                else
                {
                    ignored++;
                }
            }
        }

        if (ignored > 0)
        {
            Counters.IgnoredIWant(ignored);
        }

        return messages;
    }

    /// <summary>GRAFT: adds the peer to our mesh unless the topic is not ours, the peer is backing off (a P7 penalty),
    /// its score is negative, or the mesh is full and the peer is not outbound; refusals get a PRUNE
    /// (gossipsub-v1.1.md "Protocol Handler").</summary>
    private List<ControlPrune> HandleGraft(PubSubPeer peer, IReadOnlyList<ControlGraft> grafts, List<MeshChange> changes)
    {
        var prunes = new List<ControlPrune>();
        foreach (var graft in grafts)
        {
            if (graft.Topic is not { } topic || !_mesh.TryGetValue(topic, out var mesh))
            {
                // Spam hardening: a GRAFT for a topic we have not joined is ignored, not answered.
                Counters.RefusedGraft();
                continue;
            }

            if (mesh.Contains(peer.Id))
            {
                continue;
            }

            string? refusal = null;
            var withPeerExchange = true;
            if (_backoff.TryGetValue((peer.Id, topic), out var backoffUntil) && backoffUntil > _clock.GetUtcNow())
            {
                _score.AddPenalty(peer.Id, 1);

                // A GRAFT right after our PRUNE is flooding, not a clock skew: penalized once more.
                if (_clock.GetUtcNow() + _options.PruneBackoff < backoffUntil + _options.GraftFloodThreshold)
                {
                    _score.AddPenalty(peer.Id, 1);
                }

                refusal = "during its backoff";
                withPeerExchange = false;
            }
            else if (_score.Score(peer.Id) < 0)
            {
                refusal = "negative score";
                withPeerExchange = false;
            }
            else if (mesh.Count >= _options.DHigh && !peer.Outbound)
            {
                refusal = "the mesh is full";
            }

            if (refusal is not null)
            {
                Counters.RefusedGraft();
                PubSubLog.GraftRefused(_logger, peer.Id, topic, refusal);
                prunes.Add(MakePrune(peer, topic, _options.PruneBackoff, withPeerExchange));
                SetBackoff(peer.Id, topic, _options.PruneBackoff);
                continue;
            }

            mesh.Add(peer.Id);
            _score.Graft(peer.Id, topic);
            changes.Add(new MeshChange(topic, peer.Id, Joined: true));
        }

        return prunes;
    }

    /// <summary>PRUNE: removes the peer from our mesh, backs off for the time it asked (or our default), and returns
    /// the peers it offered when its score lets us accept peer exchange.</summary>
    private List<PeerExchangeInfo>? HandlePrune(PubSubPeer peer, IReadOnlyList<ControlPrune> prunes, List<MeshChange> changes)
    {
        List<PeerExchangeInfo>? exchange = null;
        foreach (var prune in prunes)
        {
            if (prune.Topic is not { } topic)
            {
                continue;
            }

            if (_mesh.TryGetValue(topic, out var mesh) && mesh.Remove(peer.Id))
            {
                _score.Prune(peer.Id, topic);
                changes.Add(new MeshChange(topic, peer.Id, Joined: false));
            }

            var backoff = prune.BackoffSeconds is { } seconds
                ? TimeSpan.FromSeconds(Math.Min(seconds, (ulong)TimeSpan.FromDays(1).TotalSeconds))
                : _options.PruneBackoff;
            SetBackoff(peer.Id, topic, backoff);
            if (prune.Peers.Count > 0 && _options.AcceptPeerExchange && _mesh.ContainsKey(topic)
                && _score.Score(peer.Id) >= _options.Score.Thresholds.AcceptPeerExchange)
            {
                (exchange ??= []).AddRange(prune.Peers.Take(_options.PrunePeers));
            }
        }

        return exchange;
    }

    /// <summary>IDONTWANT (v1.2): remembers the ids for a few heartbeats, within the peer's budget.</summary>
    private void HandleIDontWant(PubSubPeer peer, IReadOnlyList<ControlIDontWant> idontwants)
    {
        if (!peer.SpeaksV12)
        {
            return;
        }

        var expires = _heartbeatTicks + _options.IDontWantTtlHeartbeats;
        foreach (var idontwant in idontwants)
        {
            foreach (var id in idontwant.MessageIds)
            {
                if (peer.DontWant.Count >= _options.MaxIDontWantIds)
                {
                    Counters.IgnoredIDontWant(1);
                    continue;
                }

                peer.DontWant[id] = expires;
            }
        }
    }

    /// <summary>A PRUNE for <paramref name="topic"/>: the backoff, and for v1.1 peers when asked, other peers of the
    /// topic with their signed peer records (gossipsub-v1.1.md "Peer Exchange"). Call under the lock.</summary>
    private ControlPrune MakePrune(PubSubPeer peer, string topic, TimeSpan backoff, bool withPeerExchange)
    {
        List<PeerExchangeInfo> peers = [];
        if (withPeerExchange && peer.SpeaksV11)
        {
            foreach (var candidate in SelectPeers(topic, _options.PrunePeers, p => p.Id != peer.Id && _score.Score(p.Id) >= 0))
            {
                var record = _host.PeerStore.GetPeerRecordEnvelope(candidate);
                peers.Add(new PeerExchangeInfo(candidate.ToBytes(), record?.ToArray()));
            }
        }

        return new ControlPrune(topic, peers, (ulong)backoff.TotalSeconds);
    }

    private void SetBackoff(PeerId peer, string topic, TimeSpan backoff)
    {
        var until = _clock.GetUtcNow() + backoff;
        if (!_backoff.TryGetValue((peer, topic), out var current) || current < until)
        {
            _backoff[(peer, topic)] = until;
        }
    }

    private bool InBackoff(PeerId peer, string topic) => _backoff.TryGetValue((peer, topic), out var until) && until > _clock.GetUtcNow();

    /// <summary>Peer exchange: connects to offered peers we are not connected to. A signed peer record is verified
    /// and its addresses stored first; without one, the peer is dialled only if we already know its addresses.</summary>
    private async Task ConnectToExchangedPeersAsync(List<PeerExchangeInfo> offered)
    {
        foreach (var info in offered)
        {
            if (info.PeerId is null)
            {
                continue;
            }

            PeerId peer;
            try
            {
                peer = PeerId.FromBytes(info.PeerId);
                if (peer == _host.PeerId || _host.GetConnections(peer).Count > 0)
                {
                    continue;
                }

                if (info.SignedPeerRecord is { } signed)
                {
                    var (_, record) = PeerRecord.ConsumeEnvelope(signed);
                    if (record.PeerId != peer)
                    {
                        continue;
                    }

                    _host.PeerStore.ConsumePeerRecord(peer, record.Seq, record.Addresses, signed, Peers.PeerStoreTtl.TemporaryAddress);
                }
            }
            catch (Exception ex) when (ex is WireFormatException or RecordVerificationException)
            {
                continue;
            }

            if (_host.PeerStore.GetAddresses(peer).Count == 0)
            {
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                await _host.ConnectAsync(peer, timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or TimeoutException or InvalidOperationException)
            {
                PubSubLog.PeerExchangeFailed(_logger, peer, ex.Message);
            }
        }
    }
}
