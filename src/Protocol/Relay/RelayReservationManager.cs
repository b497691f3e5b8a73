using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Relay;

/// <summary>Which relays to hold reservations on and how to keep them.</summary>
public sealed record RelayReservationOptions
{
    /// <summary>The relays, each address ending in <c>/p2p/RELAY</c>.</summary>
    public IReadOnlyList<Multiaddr> Relays { get; init; } = [];

    /// <summary>The share of a reservation's remaining lifetime after which it is renewed.</summary>
    public double RenewAfter { get; init; } = 0.75;

    /// <summary>The first wait after a failed attempt; it doubles on each further failure.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>A reservation was made or renewed (<see cref="Reservation"/> set), or lost (null).</summary>
public sealed record RelayReservationChange(PeerId Relay, RelayReservationInfo? Reservation, string? Reason);

/// <summary>
/// Keeps a reservation on each configured relay (circuit-v2 spec, "Reservation"): connects, reserves, renews before
/// expiry, and when the relay refuses, drops the connection or cannot be reached, tries again with a growing delay.
/// A reservation is only valid while its connection lives, so the relay's peer is protected from trimming.
/// </summary>
public sealed partial class RelayReservationManager : IAsyncDisposable
{
    private const string ProtectionTag = "relay-reservation";

    private readonly IHost _host;
    private readonly CircuitRelayTransport _transport;
    private readonly RelayReservationOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private int _disposed;

    public RelayReservationManager(IHost host, CircuitRelayTransport transport, RelayReservationOptions options, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var relay in options.Relays)
        {
            if (!relay.TryGetPeerId(out _) || relay.IsRelayed)
            {
                throw new ArgumentException($"a relay address must be direct and end in /p2p/ID: {relay}", nameof(options));
            }
        }

        _host = host;
        _transport = transport;
        _options = options;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised when a reservation is made, renewed or lost; on a background thread, must not throw.</summary>
    public event EventHandler<RelayReservationChange>? ReservationChanged;

    /// <summary>Our addresses through the relays we currently hold reservations on.</summary>
    public IReadOnlyList<Multiaddr> Addresses => [.. _transport.Reservations.SelectMany(r => r.Addresses)];

    /// <summary>Starts keeping the reservations.</summary>
    public void Start()
    {
        foreach (var relay in _options.Relays)
        {
            _loops.Add(KeepReservationAsync(relay, _stopping.Token));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task KeepReservationAsync(Multiaddr relayAddress, CancellationToken cancellationToken)
    {
        await Task.Yield();
        relayAddress.TryGetPeerId(out var relay);
        var retryDelay = _options.RetryDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            RelayReservationInfo? held = null;
            try
            {
                var connection = await _host.ConnectAsync(relayAddress, cancellationToken).ConfigureAwait(false);
                (_host as Host.Libp2pHost)?.ConnectionManager.Protect(relay!, ProtectionTag);
                while (!connection.Completion.IsCompleted)
                {
                    held = await _transport.ReserveAsync(connection, cancellationToken).ConfigureAwait(false);
                    retryDelay = _options.RetryDelay;
                    ReservationChanged?.Invoke(this, new RelayReservationChange(relay!, held, null));
                    var renewIn = (held.Expires - _timeProvider.GetUtcNow()) * _options.RenewAfter;
                    var renewal = Task.Delay(renewIn > TimeSpan.FromSeconds(1) ? renewIn : TimeSpan.FromSeconds(1), _timeProvider, cancellationToken);
                    await Task.WhenAny(renewal, connection.Completion).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                Lost(relay!, held, "the connection to the relay closed");
                continue;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Lost(relay!, held, "stopping");
                return;
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
            {
                LogAttemptFailed(_logger, relay!, retryDelay, ex.Message);
                Lost(relay!, held, ex.Message);
            }

            try
            {
                await Task.Delay(retryDelay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, _options.MaxRetryDelay.Ticks));
        }
    }

    private void Lost(PeerId relay, RelayReservationInfo? held, string reason)
    {
        (_host as Host.Libp2pHost)?.ConnectionManager.Unprotect(relay, ProtectionTag);
        if (held is not null && _transport.ForgetReservation(relay))
        {
            LogLost(_logger, relay, reason);
            ReservationChanged?.Invoke(this, new RelayReservationChange(relay, null, reason));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reservation on {Relay} failed, retrying in {Delay}: {Reason}")]
    private static partial void LogAttemptFailed(ILogger logger, PeerId relay, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reservation on {Relay} lost: {Reason}")]
    private static partial void LogLost(ILogger logger, PeerId relay, string reason);
}
