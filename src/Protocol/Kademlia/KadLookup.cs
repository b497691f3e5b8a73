using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Kademlia;

/// <summary>What one peer's answer contributed to a lookup.</summary>
/// <param name="CloserPeers">The peers it named as closer (already checked and deduplicated by the caller).</param>
/// <param name="Stop">Whether the lookup has what it wanted (a quorum of values, the peer searched for).</param>
internal readonly record struct LookupStep(IReadOnlyList<PeerId> CloserPeers, bool Stop);

/// <summary>How a lookup ended.</summary>
/// <param name="Closest">The closest peers that answered, closest first, at most k.</param>
/// <param name="Rounds">The hop count of the deepest of <paramref name="Closest"/>: how many answers in a row led to it.</param>
/// <param name="Requests">Requests sent.</param>
/// <param name="Failures">Requests that failed or timed out.</param>
/// <param name="Stopped">The lookup ended early because a step said so.</param>
/// <param name="TimedOut">The lookup's deadline passed before it finished; <paramref name="Closest"/> is what it had.</param>
public sealed record LookupOutcome(IReadOnlyList<PeerId> Closest, int Rounds, int Requests, int Failures, bool Stopped, bool TimedOut);

/// <summary>
/// The iterative lookup (libp2p/specs <c>kad-dht/README.md</c>, "Peer routing"): keep α requests in flight to the
/// closest peers not yet asked, add the closer peers each answer names, and finish when the k closest peers seen that
/// did not fail have all answered. Each peer is asked at most once, so a dead one costs one request timeout at most
/// once per lookup; requests (and the dials under them) run in parallel.
/// </summary>
internal static class KadLookup
{
    public static async Task<LookupOutcome> RunAsync(
        KadKey target,
        IEnumerable<PeerId> seeds,
        PeerId self,
        Func<PeerId, CancellationToken, Task<LookupStep>> ask,
        int k,
        int alpha,
        CancellationToken deadline,
        CancellationToken cancellationToken)
    {
        var byDistance = Comparer<Candidate>.Create((a, b) => target.CompareDistance(a.Key, b.Key));
        var candidates = new SortedSet<Candidate>(byDistance);
        var known = new HashSet<PeerId>();
        foreach (var seed in seeds)
        {
            if (seed != self && known.Add(seed))
            {
                candidates.Add(new Candidate(seed, KadKey.FromPeerId(seed), 0));
            }
        }

        using var stopRequests = CancellationTokenSource.CreateLinkedTokenSource(deadline, cancellationToken);
        var inFlight = new Dictionary<Task<LookupStep>, Candidate>();
        int requests = 0, failures = 0;
        var stopped = false;
        var timedOut = false;
        try
        {
            while (true)
            {
                var closest = candidates.Where(c => c.State != CandidateState.Failed).Take(k).ToList();
                if (closest.All(c => c.State == CandidateState.Answered))
                {
                    break;
                }

                foreach (var next in closest.Where(c => c.State == CandidateState.NotAsked))
                {
                    if (inFlight.Count >= alpha)
                    {
                        break;
                    }

                    next.State = CandidateState.Waiting;
                    requests++;
                    inFlight.Add(ask(next.Peer, stopRequests.Token), next);
                }

                if (inFlight.Count == 0)
                {
                    break;
                }

                Task<LookupStep> done;
                try
                {
                    done = await Task.WhenAny(inFlight.Keys).WaitAsync(stopRequests.Token);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    timedOut = true;
                    break;
                }

                var asked = inFlight[done];
                inFlight.Remove(done);
                if (!done.IsCompletedSuccessfully)
                {
                    asked.State = CandidateState.Failed;
                    failures++;
                    continue;
                }

                asked.State = CandidateState.Answered;
                var step = done.Result;
                foreach (var peer in step.CloserPeers)
                {
                    if (peer != self && known.Add(peer))
                    {
                        candidates.Add(new Candidate(peer, KadKey.FromPeerId(peer), asked.Depth + 1));
                    }
                }

                if (step.Stop)
                {
                    stopped = true;
                    break;
                }
            }
        }
        finally
        {
            await stopRequests.CancelAsync();
            foreach (var pending in inFlight.Keys)
            {
                try
                {
                    await pending;
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException or WireFormatException)
                {
                    // Cut short by the end of the lookup; the peer's failure says nothing.
                }
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var answered = candidates.Where(c => c.State == CandidateState.Answered).Take(k).ToList();
        return new LookupOutcome(
            [.. answered.Select(c => c.Peer)],
            answered.Count == 0 ? 0 : answered.Max(c => c.Depth) + 1,
            requests,
            failures,
            stopped,
            timedOut);
    }

    private enum CandidateState
    {
        NotAsked,
        Waiting,
        Answered,
        Failed,
    }

    private sealed class Candidate(PeerId peer, KadKey key, int depth)
    {
        public PeerId Peer { get; } = peer;

        public KadKey Key { get; } = key;

        public int Depth { get; } = depth;

        public CandidateState State { get; set; }
    }
}
