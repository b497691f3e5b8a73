using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Peers;

namespace ToolNet.Node.Runtime;

/// <summary>
/// Keeps a connection to each given peer (kubo's "peering"): dials it, protects the connection from trimming, and
/// when the last connection closes or a dial fails, dials again after a delay that doubles up to a minute. This is how
/// two nodes are told to meet, directly or through a relay address.
/// </summary>
internal sealed partial class PeeringService : IAsyncDisposable
{
    private const string ProtectionTag = "peering";
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    private readonly Libp2pHost _host;
    private readonly IReadOnlyList<Multiaddr> _peers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    public PeeringService(Libp2pHost host, IReadOnlyList<Multiaddr> peers, ILogger<PeeringService> logger)
    {
        foreach (var peer in peers)
        {
            if (!peer.TryGetPeerId(out _))
            {
                throw new ArgumentException($"a peering address must end in /p2p/ID: {peer}", nameof(peers));
            }
        }

        _host = host;
        _peers = peers;
        _logger = logger;
    }

    public void Start()
    {
        foreach (var address in _peers)
        {
            _loops.Add(KeepConnectedAsync(address, _stopping.Token));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task KeepConnectedAsync(Multiaddr address, CancellationToken cancellationToken)
    {
        await Task.Yield();
        address.TryGetPeerId(out var peer);
        _host.ConnectionManager.Protect(peer!, ProtectionTag);
        var retryDelay = FirstRetryDelay;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await _host.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                    retryDelay = FirstRetryDelay;
                    await WaitUntilDisconnectedAsync(peer!, cancellationToken).ConfigureAwait(false);
                    LogDisconnected(_logger, peer!);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested
                    && ex is IOException or TimeoutException or InvalidOperationException or OperationCanceledException)
                {
                    LogDialFailed(_logger, peer!, retryDelay, ex.Message);
                }

                await Task.Delay(retryDelay, cancellationToken).ConfigureAwait(false);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _host.ConnectionManager.Unprotect(peer!, ProtectionTag);
        }
    }

    private async Task WaitUntilDisconnectedAsync(PeerId peer, CancellationToken cancellationToken)
    {
        // Until every connection to the peer has closed (one may open while we wait, for example a direct one
        // replacing a relayed one). WhenAny observes without throwing: a connection that failed has closed all the same.
        while (_host.GetConnections(peer).Where(c => !c.Completion.IsCompleted).ToList() is { Count: > 0 } open)
        {
            await Task.WhenAny(Task.WhenAll(open.Select(c => c.Completion))).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Peering: lost the connection to {Peer}; dialling it again")]
    private static partial void LogDisconnected(ILogger logger, PeerId peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Peering: dialling {Peer} failed, retrying in {Delay}: {Reason}")]
    private static partial void LogDialFailed(ILogger logger, PeerId peer, TimeSpan delay, string reason);
}
