using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// The relay side of circuit relay v2 (<c>/libp2p/circuit/relay/0.2.0/hop</c>): grants reservations with signed
/// vouchers, capped in total and per IP; answers CONNECT for peers holding one by opening a stop stream to them and
/// bridging the two streams under the circuit limits. Every refusal is answered with a status, logged and counted.
/// </summary>
public sealed partial class RelayService : IAsyncDisposable
{
    /// <summary>The hop protocol id.</summary>
    public const string HopProtocolId = "/libp2p/circuit/relay/0.2.0/hop";

    /// <summary>The stop protocol id.</summary>
    public const string StopProtocolId = "/libp2p/circuit/relay/0.2.0/stop";

    private readonly IHost _host;
    private readonly PrivateKey _identity;
    private readonly RelayServiceOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly HandlerRegistration _registration;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _sync = new();
    private readonly Dictionary<PeerId, ReservationSlot> _reservations = [];
    private readonly Dictionary<PeerId, int> _circuitsPerPeer = [];
    private readonly List<Task> _bridges = [];
    private int _circuits;
    private int _disposed;

    /// <summary>Starts serving hop on <paramref name="host"/>; <paramref name="identity"/> (the host's key) signs vouchers.</summary>
    public RelayService(IHost host, PrivateKey identity, RelayServiceOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(identity);
        if (PeerId.FromPublicKey(identity.GetPublicKey()) != host.PeerId)
        {
            throw new ArgumentException("the voucher key must be the host's identity key", nameof(identity));
        }

        _host = host;
        _identity = identity;
        _options = options ?? RelayServiceOptions.Default;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _host.ConnectionClosed += OnConnectionClosed;

        // Hop runs only on direct connections: relaying over a relayed connection is refused by not offering it there.
        _registration = new HandlerRegistration(
            host, HopProtocolId, HandleHopAsync, new StreamHandlerOptions { MaxInboundStreamsPerConnection = _options.MaxHopStreamsPerConnection });
    }

    /// <summary>What this relay granted, refused and carried.</summary>
    public RelayCounters Counters { get; } = new();

    /// <summary>Reservations currently held (expired ones are dropped lazily).</summary>
    public int ReservationCount
    {
        get
        {
            lock (_sync)
            {
                return _reservations.Count;
            }
        }
    }

    /// <summary>Circuits currently bridged.</summary>
    public int CircuitCount => Volatile.Read(ref _circuits);

    /// <summary>The limit every circuit gets, as sent to both ends; null when unlimited.</summary>
    private RelayLimit? CircuitLimit =>
        _options.CircuitDuration <= TimeSpan.Zero && _options.CircuitData == 0
            ? null
            : new RelayLimit(
                _options.CircuitDuration > TimeSpan.Zero ? (uint)Math.Min(uint.MaxValue, Math.Ceiling(_options.CircuitDuration.TotalSeconds)) : null,
                _options.CircuitData > 0 ? _options.CircuitData : null);

    /// <summary>Stops serving: no new requests; bridged circuits are reset.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose();
        _host.ConnectionClosed -= OnConnectionClosed;
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] bridges;
        lock (_sync)
        {
            bridges = [.. _bridges];
        }

        await Task.WhenAll(bridges).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task HandleHopAsync(IStream stream, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        HopMessage request;
        try
        {
            using var deadline = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
            using var reading = CancellationTokenSource.CreateLinkedTokenSource(linked.Token, deadline.Token);
            request = await CircuitRelaySession.ReadHopAsync(stream.Input, reading.Token).ConfigureAwait(false);
        }
        catch (WireFormatException ex)
        {
            await RefuseAsync(stream, RelayStatus.MalformedMessage, RelayCounter.MalformedRequest, ex.Message, linked.Token).ConfigureAwait(false);
            return;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            Counters.Increment(RelayCounter.MalformedRequest);
            LogRequestFailed(_logger, stream.Connection.RemotePeer, ex.Message);
            stream.Reset();
            return;
        }

        switch (request.Type)
        {
            case HopMessageType.Reserve:
                await ReserveAsync(stream, linked.Token).ConfigureAwait(false);
                break;
            case HopMessageType.Connect:
                await ConnectAsync(stream, request, linked.Token).ConfigureAwait(false);
                break;
            default:
                await RefuseAsync(stream, RelayStatus.UnexpectedMessage, RelayCounter.MalformedRequest, $"a hop request of type {request.Type}", linked.Token).ConfigureAwait(false);
                break;
        }
    }

    private async Task ReserveAsync(IStream stream, CancellationToken cancellationToken)
    {
        var peer = stream.Connection.RemotePeer;
        var ip = FirstIPAddress(stream.Connection.RemoteAddress);
        var now = _timeProvider.GetUtcNow();
        var expires = now + _options.ReservationTtl;
        string? refusal = null;
        lock (_sync)
        {
            foreach (var (holder, slot) in _reservations.Where(r => r.Value.Expires <= now).ToList())
            {
                _reservations.Remove(holder);
            }

            if (!_reservations.ContainsKey(peer))
            {
                if (_reservations.Count >= _options.MaxReservations)
                {
                    refusal = $"{_options.MaxReservations} reservations are held";
                }
                else if (ip is not null && _reservations.Values.Count(r => ip.Equals(r.Ip)) >= _options.MaxReservationsPerIp)
                {
                    refusal = $"{_options.MaxReservationsPerIp} reservations are held from {ip}";
                }
            }

            if (refusal is null)
            {
                _reservations[peer] = new ReservationSlot(expires, ip);
            }
        }

        if (refusal is not null)
        {
            await RefuseAsync(stream, RelayStatus.ReservationRefused, RelayCounter.ReservationRefused, refusal, cancellationToken).ConfigureAwait(false);
            return;
        }

        var expire = (ulong)expires.ToUnixTimeSeconds();
        var addresses = (_options.AdvertisedAddresses?.Invoke() ?? _host.ListenAddresses)
            .Where(a => !a.IsRelayed)
            .Select(a => a.WithoutPeerId().WithPeerId(_host.PeerId).ToBytes())
            .ToList();
        var voucher = new RelayVoucher(_host.PeerId, peer, expire).Seal(_identity).ToProtobuf();
        var answer = new HopMessage
        {
            Type = HopMessageType.Status,
            Status = RelayStatus.Ok,
            Reservation = new RelayReservation(expire, addresses, voucher),
            Limit = CircuitLimit,
        };
        if (await TrySendAsync(stream, answer, cancellationToken).ConfigureAwait(false))
        {
            Counters.Increment(RelayCounter.ReservationAccepted);
            LogReserved(_logger, peer, ip, expires);
        }
    }

    private async Task ConnectAsync(IStream stream, HopMessage request, CancellationToken cancellationToken)
    {
        var initiator = stream.Connection.RemotePeer;
        PeerId target;
        try
        {
            target = CircuitRelayCodec.ParsePeerId(request.Peer ?? throw new WireFormatException("CONNECT without a peer"));
        }
        catch (WireFormatException ex)
        {
            await RefuseAsync(stream, RelayStatus.MalformedMessage, RelayCounter.MalformedRequest, ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var (status, counter, reason) = TryTakeCircuit(initiator, target);
        if (status != RelayStatus.Ok)
        {
            await RefuseAsync(stream, status, counter, reason, cancellationToken).ConfigureAwait(false);
            return;
        }

        var bridged = false;
        try
        {
            var stop = await OpenStopAsync(initiator, target, cancellationToken).ConfigureAwait(false);
            if (stop is null)
            {
                await RefuseAsync(stream, RelayStatus.ConnectionFailed, RelayCounter.CircuitConnectionFailed, $"{target} did not accept the circuit", cancellationToken).ConfigureAwait(false);
                return;
            }

            await using (stop.ConfigureAwait(false))
            {
                var limit = CircuitLimit;
                if (!await TrySendAsync(stream, new HopMessage { Type = HopMessageType.Status, Status = RelayStatus.Ok, Limit = limit }, cancellationToken).ConfigureAwait(false))
                {
                    stop.Reset();
                    return;
                }

                bridged = true;
                Counters.Increment(RelayCounter.CircuitOpened);
                LogCircuitOpened(_logger, initiator, target);
                var bridge = CircuitBridge.RunAsync(stream, stop, limit ?? new RelayLimit(null, null), _timeProvider, Counters.AddRelayed, cancellationToken);
                lock (_sync)
                {
                    _bridges.Add(bridge);
                }

                var end = await bridge.ConfigureAwait(false);
                lock (_sync)
                {
                    _bridges.Remove(bridge);
                }

                if (end == CircuitEnd.DataLimit)
                {
                    Counters.Increment(RelayCounter.CircuitDataLimit);
                }
                else if (end == CircuitEnd.DurationLimit)
                {
                    Counters.Increment(RelayCounter.CircuitDurationLimit);
                }

                LogCircuitClosed(_logger, initiator, target, end);
            }
        }
        finally
        {
            ReleaseCircuit(initiator, target);
            if (!bridged)
            {
                stream.Reset();
            }
        }
    }

    /// <summary>Opens the stop stream to <paramref name="target"/> over its direct connection and has it accept the
    /// circuit; null when it cannot be reached or refuses.</summary>
    private async Task<IStream?> OpenStopAsync(PeerId initiator, PeerId target, CancellationToken cancellationToken)
    {
        var connection = _host.GetConnections(target).FirstOrDefault(c => !c.IsLimited && !c.Completion.IsCompleted);
        if (connection is null)
        {
            return null;
        }

        IStream? stop = null;
        try
        {
            using var deadline = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            stop = await connection.NewStreamAsync([StopProtocolId], linked.Token).ConfigureAwait(false);
            var connect = new StopMessage { Type = StopMessageType.Connect, Peer = new RelayPeerInfo(initiator.ToBytes(), []), Limit = CircuitLimit };
            await CircuitRelaySession.WriteAsync(stop.Output, connect, linked.Token).ConfigureAwait(false);
            var answer = await CircuitRelaySession.ReadStopAsync(stop.Input, linked.Token).ConfigureAwait(false);
            if (answer is { Type: StopMessageType.Status, Status: RelayStatus.Ok })
            {
                return stop;
            }

            LogStopAnswered(_logger, target, answer.Type, answer.Status);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or WireFormatException or Multistream.ProtocolNegotiationException)
        {
            LogStopRefused(_logger, target, ex.Message);
        }

        if (stop is not null)
        {
            stop.Reset();
            await stop.DisposeAsync().ConfigureAwait(false);
        }

        return null;
    }

    private (RelayStatus Status, RelayCounter Counter, string Reason) TryTakeCircuit(PeerId initiator, PeerId target)
    {
        var now = _timeProvider.GetUtcNow();
        lock (_sync)
        {
            if (!_reservations.TryGetValue(target, out var slot) || slot.Expires <= now)
            {
                return (RelayStatus.NoReservation, RelayCounter.CircuitNoReservation, $"{target} holds no reservation");
            }

            if (_circuits >= _options.MaxCircuits)
            {
                return (RelayStatus.ResourceLimitExceeded, RelayCounter.CircuitResourceLimit, $"{_options.MaxCircuits} circuits are open");
            }

            if (_circuitsPerPeer.GetValueOrDefault(initiator) >= _options.MaxCircuitsPerPeer || _circuitsPerPeer.GetValueOrDefault(target) >= _options.MaxCircuitsPerPeer)
            {
                return (RelayStatus.ResourceLimitExceeded, RelayCounter.CircuitResourceLimit, $"{_options.MaxCircuitsPerPeer} circuits are open from {initiator} or to {target}");
            }

            _circuits++;
            _circuitsPerPeer[initiator] = _circuitsPerPeer.GetValueOrDefault(initiator) + 1;
            _circuitsPerPeer[target] = _circuitsPerPeer.GetValueOrDefault(target) + 1;
            return (RelayStatus.Ok, default, string.Empty);
        }
    }

    private void ReleaseCircuit(PeerId initiator, PeerId target)
    {
        lock (_sync)
        {
            _circuits--;
            foreach (var peer in (PeerId[])[initiator, target])
            {
                var left = _circuitsPerPeer[peer] - 1;
                if (left == 0)
                {
                    _circuitsPerPeer.Remove(peer);
                }
                else
                {
                    _circuitsPerPeer[peer] = left;
                }
            }
        }
    }

    /// <summary>A reservation is valid only while its holder stays connected (circuit-v2 spec, "Reservation").</summary>
    private void OnConnectionClosed(object? sender, IConnection connection)
    {
        if (_host.GetConnections(connection.RemotePeer).Any(c => !c.IsLimited && !c.Completion.IsCompleted))
        {
            return;
        }

        bool removed;
        lock (_sync)
        {
            removed = _reservations.Remove(connection.RemotePeer);
        }

        if (removed)
        {
            LogReservationDropped(_logger, connection.RemotePeer);
        }
    }

    private async Task RefuseAsync(IStream stream, RelayStatus status, RelayCounter counter, string reason, CancellationToken cancellationToken)
    {
        Counters.Increment(counter);
        LogRefused(_logger, stream.Connection.RemotePeer, status, reason);
        await TrySendAsync(stream, new HopMessage { Type = HopMessageType.Status, Status = status }, cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.CloseWriteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            stream.Reset();
        }
    }

    private async Task<bool> TrySendAsync(IStream stream, HopMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await CircuitRelaySession.WriteAsync(stream.Output, message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            LogRequestFailed(_logger, stream.Connection.RemotePeer, ex.Message);
            stream.Reset();
            return false;
        }
    }

    private static IPAddress? FirstIPAddress(Multiaddr address)
    {
        var component = address.FindFirst(MultiaddrProtocol.Ip4) ?? address.FindFirst(MultiaddrProtocol.Ip6);
        return component is null ? null : new IPAddress(component.Value.Span);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay: reservation for {Peer} from {Ip} until {Expires:O}")]
    private static partial void LogReserved(ILogger logger, PeerId peer, IPAddress? ip, DateTimeOffset expires);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: reservation of {Peer} dropped, it disconnected")]
    private static partial void LogReservationDropped(ILogger logger, PeerId peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay: refused {Peer} with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, PeerId peer, RelayStatus status, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: hop request from {Peer} failed: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, PeerId peer, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: {Target} did not accept a circuit: {Reason}")]
    private static partial void LogStopRefused(ILogger logger, PeerId target, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: {Target} did not accept a circuit: it answered {Type} {Status}")]
    private static partial void LogStopAnswered(ILogger logger, PeerId target, StopMessageType type, RelayStatus? status);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: circuit {Initiator} -> {Target} open")]
    private static partial void LogCircuitOpened(ILogger logger, PeerId initiator, PeerId target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay: circuit {Initiator} -> {Target} closed: {End}")]
    private static partial void LogCircuitClosed(ILogger logger, PeerId initiator, PeerId target, CircuitEnd end);

    private sealed record ReservationSlot(DateTimeOffset Expires, IPAddress? Ip);
}
