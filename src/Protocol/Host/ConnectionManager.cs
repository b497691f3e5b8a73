using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

/// <summary>
/// Keeps the number of connections between watermarks: above <see cref="ConnectionManagerOptions.HighWater"/>
/// it closes connections down to <see cref="ConnectionManagerOptions.LowWater"/>, never touching protected peers
/// or connections younger than the grace period. Idle connections (fewest streams) go first, then the most
/// recently opened ones.
/// </summary>
public sealed class ConnectionManager : IAsyncDisposable
{
    private readonly Libp2pHost _host;
    private readonly ConnectionManagerOptions _options;
    private readonly ILogger<ConnectionManager> _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<PeerId, HashSet<string>> _protected = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _trimming;
    private Task _periodic = Task.CompletedTask;

    internal ConnectionManager(Libp2pHost host, ConnectionManagerOptions options, ILogger<ConnectionManager> logger)
    {
        if (options.LowWater < 0 || options.HighWater < options.LowWater)
        {
            throw new ArgumentException("connection manager watermarks must satisfy 0 <= LowWater <= HighWater");
        }

        _host = host;
        _options = options;
        _logger = logger;
    }

    /// <summary>Protects <paramref name="peer"/> from trimming under <paramref name="tag"/> (several tags may
    /// protect one peer; it stays protected until all are removed).</summary>
    public void Protect(PeerId peer, string tag)
    {
        lock (_sync)
        {
            if (!_protected.TryGetValue(peer, out var tags))
            {
                tags = new HashSet<string>(StringComparer.Ordinal);
                _protected[peer] = tags;
            }

            tags.Add(tag);
        }
    }

    /// <summary>Removes one protection tag; returns whether the peer is still protected.</summary>
    public bool Unprotect(PeerId peer, string tag)
    {
        lock (_sync)
        {
            if (!_protected.TryGetValue(peer, out var tags))
            {
                return false;
            }

            tags.Remove(tag);
            if (tags.Count == 0)
            {
                _protected.Remove(peer);
                return false;
            }

            return true;
        }
    }

    /// <summary>Whether <paramref name="peer"/> is protected by any tag.</summary>
    public bool IsProtected(PeerId peer)
    {
        lock (_sync)
        {
            return _protected.ContainsKey(peer);
        }
    }

    /// <summary>Closes connections down to the low watermark if above the high one; returns how many it closed.</summary>
    public async Task<int> TrimAsync(CancellationToken cancellationToken = default)
    {
        if (_host.ConnectionCount <= _options.HighWater || Interlocked.Exchange(ref _trimming, 1) == 1)
        {
            return 0;
        }

        try
        {
            var now = _host.TimeProvider.GetUtcNow();
            var excess = _host.ConnectionCount - _options.LowWater;
            var victims = _host.GetConnections()
                .Where(c => now - c.Opened >= _options.GracePeriod && !IsProtected(c.RemotePeer))
                .OrderBy(c => c.StreamCount)
                .ThenByDescending(c => c.Opened)
                .Take(excess)
                .ToList();
            foreach (var connection in victims)
            {
                _host.Refuse(Refusal.Trimmed, $"{connection}: trimmed ({_host.ConnectionCount} connections, high watermark {_options.HighWater})");
                await connection.CloseAsync(cancellationToken).ConfigureAwait(false);
            }

            return victims.Count;
        }
        finally
        {
            Volatile.Write(ref _trimming, 0);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _periodic.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stopping.Dispose();
    }

    internal void Start() => _periodic = RunPeriodicallyAsync();

    internal void OnConnectionOpened()
    {
        if (_host.ConnectionCount > _options.HighWater)
        {
            _ = TrimQuietlyAsync();
        }
    }

    private async Task RunPeriodicallyAsync()
    {
        using var timer = new PeriodicTimer(_options.CheckInterval, _host.TimeProvider);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            await TrimQuietlyAsync().ConfigureAwait(false);
            _host.PeerStore.Prune();
        }
    }

    private async Task TrimQuietlyAsync()
    {
        try
        {
            await TrimAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            _logger.LogDebug(e, "trimming stopped");
        }
    }
}
