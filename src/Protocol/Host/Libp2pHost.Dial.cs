using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

public sealed partial class Libp2pHost
{
    /// <summary>
    /// Dials <paramref name="peer"/>: concurrent callers share one dial; the ranked addresses are tried with
    /// staggered parallel attempts (at most <see cref="HostOptions.MaxParallelDialsPerPeer"/> at once); the first
    /// upgraded connection wins and the other attempts are cancelled (or closed, if they finished anyway).
    /// </summary>
    private async Task<HostConnection> DialPeerAsync(PeerId peer, IReadOnlyList<Multiaddr> addresses, CancellationToken cancellationToken)
    {
        Task<HostConnection> dial;
        lock (_sync)
        {
            if (!_pendingDials.TryGetValue(peer, out dial!))
            {
                dial = RunDialAsync(peer, addresses);
                _pendingDials[peer] = dial;
            }
        }

        // Each caller may give up on its own; the shared dial carries on for the others.
        return await dial.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<HostConnection> RunDialAsync(PeerId peer, IReadOnlyList<Multiaddr> addresses)
    {
        try
        {
            await Task.Yield();
            var plan = AddressRanking.Rank(addresses, a => Options.Transports.Any(t => t.CanDial(a)), Options.DialRanking);
            if (plan.Attempts.Count == 0)
            {
                throw new DialException(peer, $"none of the {addresses.Count} addresses of {peer} is dialable", []);
            }

            using var dialCts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            dialCts.CancelAfter(Options.DialTimeout);
            var started = Options.TimeProvider.GetTimestamp();
            var running = new List<(Multiaddr Address, Task<HostConnection> Attempt)>();
            var errors = new List<(Multiaddr, Exception)>();
            var next = 0;
            while (true)
            {
                // Start every attempt that is due, or the next one at once when nothing is running.
                while (next < plan.Attempts.Count && running.Count < plan.MaxParallel
                    && (running.Count == 0 || Options.TimeProvider.GetElapsedTime(started) >= plan.Attempts[next].Delay))
                {
                    var address = plan.Attempts[next++].Address;
                    running.Add((address, DialAddressAsync(address, peer, dialCts.Token)));
                }

                if (running.Count == 0)
                {
                    throw dialCts.IsCancellationRequested
                        ? new DialException(peer, $"dialling {peer} timed out after {Options.DialTimeout}", errors)
                        : new DialException(peer, $"all {errors.Count} dial attempts to {peer} failed", errors);
                }

                var waiting = running.Select(r => (Task)r.Attempt).ToList();
                if (next < plan.Attempts.Count && running.Count < plan.MaxParallel)
                {
                    var due = plan.Attempts[next].Delay - Options.TimeProvider.GetElapsedTime(started);
                    waiting.Add(Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, Options.TimeProvider, dialCts.Token));
                }

                var finished = await Task.WhenAny(waiting).ConfigureAwait(false);
                var index = running.FindIndex(r => r.Attempt == finished);
                if (index < 0)
                {
                    continue;
                }

                var (failedAddress, attempt) = running[index];
                running.RemoveAt(index);
                if (attempt.IsCompletedSuccessfully)
                {
                    await dialCts.CancelAsync().ConfigureAwait(false);
                    foreach (var (_, loser) in running)
                    {
                        _ = CloseIfConnectedAsync(loser);
                    }

                    return await attempt.ConfigureAwait(false);
                }

                var error = attempt.Exception?.GetBaseException() ?? new OperationCanceledException("the dial attempt was cancelled");
                HostLog.DialAttemptFailed(_logger, peer, failedAddress, error);
                errors.Add((failedAddress, error));
            }
        }
        finally
        {
            lock (_sync)
            {
                _pendingDials.Remove(peer);
            }
        }
    }

    private static async Task CloseIfConnectedAsync(Task<HostConnection> attempt)
    {
        try
        {
            var extra = await attempt.ConfigureAwait(false);

            // Keep the first connection; one that won the race a moment too late is redundant.
            await extra.CloseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or DialException or System.Net.Sockets.SocketException or TimeoutException)
        {
        }
    }
}

/// <summary>A dial to a peer failed; <see cref="Attempts"/> says why for each address tried.</summary>
public sealed class DialException : IOException
{
    public DialException()
    {
        Attempts = [];
    }

    public DialException(string message)
        : base(message)
    {
        Attempts = [];
    }

    public DialException(string message, Exception innerException)
        : base(message, innerException)
    {
        Attempts = [];
    }

    public DialException(PeerId? peer, string message, IReadOnlyList<(Multiaddr Address, Exception Error)> attempts)
        : base(Describe(message, attempts))
    {
        Peer = peer;
        Attempts = attempts;
    }

    /// <summary>The peer dialled, if known.</summary>
    public PeerId? Peer { get; }

    /// <summary>Each address tried and why it failed.</summary>
    public IReadOnlyList<(Multiaddr Address, Exception Error)> Attempts { get; }

    private static string Describe(string message, IReadOnlyList<(Multiaddr Address, Exception Error)> attempts) =>
        attempts.Count == 0
            ? message
            : message + ": " + string.Join("; ", attempts.Select(a => $"{a.Address}: {a.Error.Message}"));
}
