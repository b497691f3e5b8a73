using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

public sealed partial class PubSubService
{
    /// <summary>Handles one RPC from <paramref name="from"/>: subscriptions, then messages (validated one by one,
    /// outside the lock), then control.</summary>
    private async ValueTask HandleRpcAsync(PeerId from, PubSubRpc rpc, CancellationToken cancellationToken)
    {
        var changes = new List<MeshChange>();
        lock (_lock)
        {
            if (!_peers.TryGetValue(from, out var peer))
            {
                return;
            }

            var score = _score.Score(from);
            if (score < _options.Score.Thresholds.Graylist)
            {
                // gossipsub-v1.1.md "Score Thresholds": below the graylist threshold "all RPCs from the peer are ignored".
                Counters.GraylistedRpc();
                PubSubLog.Graylisted(_logger, from, score);
                return;
            }

            foreach (var change in rpc.Subscriptions)
            {
                ApplySubscription(peer, change, changes);
            }
        }

        RaiseMeshChanges(changes);
        foreach (var message in rpc.Messages)
        {
            await HandleMessageAsync(from, message, cancellationToken);
        }

        if (rpc.Control is { IsEmpty: false } control)
        {
            HandleControl(from, control);
        }
    }

    private void ApplySubscription(PubSubPeer peer, SubscriptionChange change, List<MeshChange> changes)
    {
        if (change.Subscribe)
        {
            if (peer.Topics.Contains(change.Topic))
            {
                return;
            }

            if (peer.Topics.Count >= MaxTopicsPerPeer)
            {
                Counters.RefusedSubscription();
                return;
            }

            peer.Topics.Add(change.Topic);
            if (!_topicPeers.TryGetValue(change.Topic, out var peers))
            {
                _topicPeers[change.Topic] = peers = [];
            }

            peers.Add(peer.Id);
        }
        else if (peer.Topics.Remove(change.Topic))
        {
            RemoveTopicPeer(change.Topic, peer.Id, changes);
        }
    }

    /// <summary>The peer left <paramref name="topic"/> (or went away): out of the topic, its mesh and fanout.</summary>
    private void RemoveTopicPeer(string topic, PeerId peer, List<MeshChange> changes)
    {
        if (_topicPeers.TryGetValue(topic, out var peers) && peers.Remove(peer) && peers.Count == 0)
        {
            _topicPeers.Remove(topic);
        }

        if (_mesh.TryGetValue(topic, out var mesh) && mesh.Remove(peer))
        {
            _score.Prune(peer, topic);
            changes.Add(new MeshChange(topic, peer, Joined: false));
        }

        if (_fanout.TryGetValue(topic, out var fanout))
        {
            fanout.Remove(peer);
        }
    }

    private async ValueTask HandleMessageAsync(PeerId from, PubSubMessage message, CancellationToken cancellationToken)
    {
        MessageId id;
        MessageValidator?[] validators;
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(message.Topic, out var subscriptions))
            {
                Counters.UnsubscribedTopicMessage();
                return;
            }

            id = _options.MessageIdFunction(message);
            if (IsDuplicate(from, id, message.Topic))
            {
                return;
            }

            _score.ValidationStarted(from, id);
            if (_peers.TryGetValue(from, out var source))
            {
                source.Promises.Remove(id);
            }

            // gossipsub-v1.2.md: IDONTWANT goes to mesh peers as soon as a large message arrives, before validation,
            // so that they stop sending copies while we validate.
            if ((message.Data?.Length ?? 0) > _options.IDontWantMessageThreshold && _mesh.TryGetValue(message.Topic, out var mesh))
            {
                var idontwant = new PubSubRpc { Control = new ControlMessage { IDontWant = [new ControlIDontWant([id])] } };
                foreach (var peerId in mesh)
                {
                    if (peerId != from && _peers.TryGetValue(peerId, out var peer) && peer.SpeaksV12)
                    {
                        Send(peer, idontwant);
                    }
                }
            }

            validators = [.. subscriptions.Select(s => s.Validator).Where(v => v is not null)];
        }

        var signature = MessageSigning.Verify(message);
        if (signature != SignatureCheck.Valid)
        {
            Counters.InvalidSignature();
            Reject(from, id, message.Topic, $"signature check failed: {signature}");
            return;
        }

        var verdict = await ValidateAsync(message, validators, cancellationToken);
        if (verdict == ValidationResult.Reject)
        {
            Reject(from, id, message.Topic, "a validator rejected it");
            return;
        }

        lock (_lock)
        {
            if (verdict == ValidationResult.Ignore)
            {
                Counters.IgnoredMessage();
                _score.Ignored(from, id);
                return;
            }

            if (!_seen.Add(id))
            {
                // Another peer's copy passed validation meanwhile.
                Counters.DuplicateMessage();
                _score.Duplicate(from, id, message.Topic);
                return;
            }

            Counters.DeliveredMessage();
            _score.Delivered(from, id, message.Topic);
            _cache.Put(id, message);
            DeliverLocally(message);
            Forward(from, id, message);
        }
    }

    /// <summary>Whether <paramref name="id"/> was seen; a duplicate is counted and scored. Call under the lock.</summary>
    private bool IsDuplicate(PeerId from, MessageId id, string topic)
    {
        if (!_seen.Contains(id))
        {
            return false;
        }

        Counters.DuplicateMessage();
        _score.Duplicate(from, id, topic);
        if (_peers.TryGetValue(from, out var peer))
        {
            peer.Promises.Remove(id);
        }

        return true;
    }

    private async ValueTask<ValidationResult> ValidateAsync(PubSubMessage message, MessageValidator?[] validators, CancellationToken cancellationToken)
    {
        var verdict = ValidationResult.Accept;
        foreach (var validator in validators)
        {
            ValidationResult result;
            try
            {
                result = await validator!(message, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                PubSubLog.ValidatorFailed(_logger, message.Topic, ex.Message);
                result = ValidationResult.Ignore;
            }

            if (result == ValidationResult.Reject)
            {
                return result;
            }

            if (result == ValidationResult.Ignore)
            {
                verdict = result;
            }
        }

        return verdict;
    }

    private void Reject(PeerId from, MessageId id, string topic, string reason)
    {
        Counters.RejectedMessage();
        PubSubLog.MessageRejected(_logger, id, topic, from, reason);
        lock (_lock)
        {
            _score.Rejected(from, id, topic);
        }
    }

    /// <summary>Hands <paramref name="message"/> to every subscription of its topic. Call under the lock.</summary>
    private void DeliverLocally(PubSubMessage message)
    {
        if (_subscriptions.TryGetValue(message.Topic, out var subscriptions))
        {
            foreach (var subscription in subscriptions)
            {
                subscription.Deliver(message);
            }
        }
    }

    /// <summary>Sends a received message on to the topic's mesh and floodsub peers, except its source and author
    /// and peers that said they do not want it. Call under the lock.</summary>
    private void Forward(PeerId source, MessageId id, PubSubMessage message)
    {
        var rpc = new PubSubRpc { Messages = [message] };
        foreach (var peer in Recipients(message.Topic, _mesh.GetValueOrDefault(message.Topic), id))
        {
            if (peer.Id != source && !IsAuthor(peer.Id, message))
            {
                Send(peer, rpc);
            }
        }
    }

    private static bool IsAuthor(PeerId peer, PubSubMessage message) => message.From is { } author && peer.Bytes.SequenceEqual(author);

    /// <summary>The peers of <paramref name="routers"/> plus the topic's floodsub peers, minus those that sent
    /// IDONTWANT for <paramref name="id"/>.</summary>
    private List<PubSubPeer> Recipients(string topic, HashSet<PeerId>? routers, MessageId? id)
    {
        var recipients = new List<PubSubPeer>();
        if (routers is not null)
        {
            foreach (var peerId in routers)
            {
                if (_peers.TryGetValue(peerId, out var peer) && (id is not { } known || !peer.DontWant.ContainsKey(known)))
                {
                    recipients.Add(peer);
                }
            }
        }

        if (_topicPeers.TryGetValue(topic, out var topicPeers))
        {
            foreach (var peerId in topicPeers)
            {
                if (_peers.TryGetValue(peerId, out var peer) && peer.SpeaksFloodSub && routers?.Contains(peerId) != true)
                {
                    recipients.Add(peer);
                }
            }
        }

        return recipients;
    }

    /// <summary>Where our own message goes: with flood publishing every topic peer above the publish threshold;
    /// otherwise the mesh, or the fanout (chosen now if need be). Call under the lock.</summary>
    private List<PubSubPeer> SelectPublishTargets(string topic)
    {
        var threshold = _options.Score.Thresholds.Publish;
        if (_options.FloodPublish)
        {
            var targets = new List<PubSubPeer>();
            if (_topicPeers.TryGetValue(topic, out var topicPeers))
            {
                foreach (var peerId in topicPeers)
                {
                    if (_peers.TryGetValue(peerId, out var peer) && peer.Protocol is not null && _score.Score(peerId) >= threshold)
                    {
                        targets.Add(peer);
                    }
                }
            }

            return targets;
        }

        if (!_mesh.TryGetValue(topic, out var routers))
        {
            if (!_fanout.TryGetValue(topic, out routers))
            {
                _fanout[topic] = routers = [.. SelectPeers(topic, _options.D, p => _score.Score(p.Id) >= threshold)];
            }

            _fanoutLastPublished[topic] = _clock.GetUtcNow();
        }

        return Recipients(topic, routers, id: null);
    }

    /// <summary>Up to <paramref name="count"/> random gossipsub peers of <paramref name="topic"/> that pass
    /// <paramref name="filter"/>. Call under the lock.</summary>
    private List<PeerId> SelectPeers(string topic, int count, Func<PubSubPeer, bool> filter)
    {
        if (count <= 0 || !_topicPeers.TryGetValue(topic, out var topicPeers))
        {
            return [];
        }

        var candidates = new List<PeerId>();
        foreach (var peerId in topicPeers)
        {
            if (_peers.TryGetValue(peerId, out var peer) && peer.SpeaksGossipSub && filter(peer))
            {
                candidates.Add(peerId);
            }
        }

        Shuffle(candidates);
        return candidates.Count <= count ? candidates : candidates[..count];
    }

    private void Shuffle<T>(List<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = _random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Joins a topic: announces it, and builds its mesh from the fanout and other topic peers
    /// (gossipsub-v1.0.md "JOIN(topic)"). Call under the lock.</summary>
    private void Join(string topic, List<MeshChange> changes)
    {
        var announce = new PubSubRpc { Subscriptions = [new SubscriptionChange(true, topic)] };
        foreach (var peer in _peers.Values)
        {
            if (peer.Protocol is not null)
            {
                Send(peer, announce);
            }
        }

        if (_mesh.ContainsKey(topic))
        {
            return;
        }

        var mesh = new HashSet<PeerId>();
        _mesh[topic] = mesh;
        if (_fanout.Remove(topic, out var fanout))
        {
            _fanoutLastPublished.Remove(topic);
            foreach (var peerId in fanout)
            {
                if (_score.Score(peerId) >= 0 && !InBackoff(peerId, topic))
                {
                    mesh.Add(peerId);
                }
            }
        }

        if (mesh.Count < _options.D)
        {
            mesh.UnionWith(SelectPeers(topic, _options.D - mesh.Count, p => !mesh.Contains(p.Id) && !InBackoff(p.Id, topic) && _score.Score(p.Id) >= 0));
        }

        var graft = new PubSubRpc { Control = new ControlMessage { Graft = [new ControlGraft(topic)] } };
        foreach (var peerId in mesh)
        {
            _score.Graft(peerId, topic);
            Send(_peers[peerId], graft);
            changes.Add(new MeshChange(topic, peerId, Joined: true));
        }
    }

    /// <summary>Leaves a topic: PRUNEs its mesh with the unsubscribe backoff and announces the leave
    /// (gossipsub-v1.0.md "LEAVE(topic)"). Call under the lock.</summary>
    private void Leave(string topic, List<MeshChange> changes)
    {
        if (_mesh.Remove(topic, out var mesh))
        {
            foreach (var peerId in mesh)
            {
                _score.Prune(peerId, topic);
                SetBackoff(peerId, topic, _options.UnsubscribeBackoff);
                if (_peers.TryGetValue(peerId, out var peer))
                {
                    Send(peer, new PubSubRpc { Control = new ControlMessage { Prune = [MakePrune(peer, topic, _options.UnsubscribeBackoff, withPeerExchange: false)] } });
                }

                changes.Add(new MeshChange(topic, peerId, Joined: false));
            }
        }

        var announce = new PubSubRpc { Subscriptions = [new SubscriptionChange(false, topic)] };
        foreach (var peer in _peers.Values)
        {
            if (peer.Protocol is not null)
            {
                Send(peer, announce);
            }
        }
    }
}
