using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// The client side of circuit relay v2 as a transport. It dials <c>…/p2p/RELAY/p2p-circuit/p2p/TARGET</c> by sending
/// CONNECT on a hop stream to the relay; it listens on <c>/p2p-circuit</c> by serving the stop protocol, handing each
/// circuit a relay brings to the host; and it makes reservations (<see cref="ReserveAsync"/>). The host upgrades
/// circuits like any raw connection and marks them limited.
/// </summary>
/// <remarks>
/// A transport is given to the host at construction, but this one needs the host to reach relays: build it, build
/// the host with it, then <see cref="Attach"/> it.
/// </remarks>
public sealed partial class CircuitRelayTransport : ITransport
{
    /// <summary>The address to listen on to accept relayed connections.</summary>
    public static Multiaddr ListenAddress { get; } = Multiaddr.Create(MultiaddrComponent.Create(MultiaddrProtocol.P2pCircuit));

    private readonly CircuitRelayClientOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<PeerId, RelayReservationInfo> _reservations = new();
    private IHost? _host;
    private CircuitListener? _listener;

    public CircuitRelayTransport(CircuitRelayClientOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _options = options ?? CircuitRelayClientOptions.Default;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Name => "p2p-circuit";

    /// <summary>Reservations we hold, by relay (the latest answer of each; dropped when it expires or fails).</summary>
    public IReadOnlyCollection<RelayReservationInfo> Reservations => [.. _reservations.Values];

    private IHost Host => _host ?? throw new InvalidOperationException("the relay transport is not attached to a host yet");

    /// <summary>Binds the transport to the host it belongs to; once, before dialling or listening.</summary>
    public void Attach(IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Interlocked.CompareExchange(ref _host, host, null) is not null)
        {
            throw new InvalidOperationException("the relay transport is already attached to a host");
        }
    }

    /// <inheritdoc />
    public bool CanDial(Multiaddr address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var split = Split(address);
        return split is { } s && !s.Relay.IsEmpty && !s.Relay.IsRelayed;
    }

    /// <inheritdoc />
    public bool CanListen(Multiaddr address) => ListenAddress.Equals(address);

    /// <inheritdoc />
    public async ValueTask<ITransportConnection> DialAsync(Multiaddr address, TransportDialOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(options);
        var (relayAddress, target) = Split(address) ?? throw new ArgumentException($"{address} is not a relayed address", nameof(address));
        target ??= options.Peer ?? throw new ArgumentException($"{address} names no target peer", nameof(address));
        using var deadline = new CancellationTokenSource(options.Timeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var relay = await ConnectToRelayAsync(relayAddress, linked.Token).ConfigureAwait(false);
        var stream = await relay.NewStreamAsync([RelayService.HopProtocolId], linked.Token).ConfigureAwait(false);
        try
        {
            await CircuitRelaySession.WriteAsync(stream.Output, new HopMessage { Type = HopMessageType.Connect, Peer = new RelayPeerInfo(target.ToBytes(), []) }, linked.Token).ConfigureAwait(false);
            var answer = await CircuitRelaySession.ReadHopAsync(stream.Input, linked.Token).ConfigureAwait(false);
            if (answer.Type != HopMessageType.Status || answer.Status != RelayStatus.Ok)
            {
                throw new RelayRefusedException(answer.Status ?? RelayStatus.Unused, $"relay {relay.RemotePeer} refused the circuit to {target}: {answer.Status?.ToString() ?? answer.Type.ToString()}");
            }

            LogDialled(_logger, target, relay.RemotePeer);
            return new RelayedConnection(stream, CircuitAddress(relay.LocalAddress), CircuitAddress(relay.RemoteAddress.WithPeerId(relay.RemotePeer)), Direction.Outbound);
        }
        catch (Exception ex) when (ex is not RelayRefusedException)
        {
            stream.Reset();
            await stream.DisposeAsync().ConfigureAwait(false);
            throw ex is WireFormatException ? new IOException($"relay {relay.RemotePeer} broke the hop protocol: {ex.Message}", ex) : ex;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask<ITransportListener> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        if (!CanListen(address))
        {
            throw new ArgumentException($"the relay transport listens only on {ListenAddress}", nameof(address));
        }

        var listener = new CircuitListener(this, _options.MaxPendingInboundCircuits);
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            throw new InvalidOperationException($"already listening on {ListenAddress}");
        }

        // Circuits are offered to us only while we listen, on direct connections to relays.
        Host.SetStreamHandler(RelayService.StopProtocolId, HandleStopAsync);
        return ValueTask.FromResult<ITransportListener>(listener);
    }

    /// <summary>
    /// Reserves a slot on the relay at the other end of <paramref name="relay"/> (a direct connection), or renews the
    /// one held. The voucher, if the relay sends one, must be the relay's and name us.
    /// </summary>
    /// <exception cref="RelayRefusedException">The relay answered with a status other than OK.</exception>
    /// <exception cref="IOException">The stream failed, or the relay broke the protocol.</exception>
    public async Task<RelayReservationInfo> ReserveAsync(IConnection relay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(relay);
        if (relay.IsLimited)
        {
            throw new ArgumentException("a reservation needs a direct connection to the relay", nameof(relay));
        }

        using var deadline = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        HopMessage answer;
        try
        {
            answer = await ProtocolStreams.RunAsync(relay, RelayService.HopProtocolId, async (stream, ct) =>
            {
                await CircuitRelaySession.WriteAsync(stream.Output, new HopMessage { Type = HopMessageType.Reserve }, ct).ConfigureAwait(false);
                var message = await CircuitRelaySession.ReadHopAsync(stream.Input, ct).ConfigureAwait(false);
                await stream.CloseWriteAsync(ct).ConfigureAwait(false);
                return message;
            }, linked.Token).ConfigureAwait(false);
        }
        catch (WireFormatException ex)
        {
            throw new IOException($"relay {relay.RemotePeer} broke the hop protocol: {ex.Message}", ex);
        }

        if (answer.Type != HopMessageType.Status || answer.Status != RelayStatus.Ok || answer.Reservation is null)
        {
            _reservations.TryRemove(relay.RemotePeer, out _);
            var status = answer.Status ?? RelayStatus.Unused;
            throw new RelayRefusedException(status, $"relay {relay.RemotePeer} refused the reservation: {(answer.Reservation is null && status == RelayStatus.Ok ? "no reservation in the answer" : status.ToString())}");
        }

        var reservation = answer.Reservation;
        if (reservation.Voucher is not null)
        {
            CheckVoucher(relay.RemotePeer, reservation);
        }

        var relayAddresses = CircuitRelayCodec.DecodeAddresses(reservation.Addresses)
            .Where(a => !a.IsRelayed)
            .Select(a => a.WithoutPeerId())
            .Append(relay.RemoteAddress)
            .Distinct()
            .Select(a => CircuitAddress(a.WithPeerId(relay.RemotePeer)))
            .ToList();
        var info = new RelayReservationInfo(
            relay.RemotePeer,
            DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(reservation.Expire, (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())),
            relayAddresses,
            answer.Limit);
        _reservations[relay.RemotePeer] = info;
        LogReserved(_logger, relay.RemotePeer, info.Expires);
        return info;
    }

    /// <summary>Forgets the reservation on <paramref name="relay"/> (it expired or its connection was lost).</summary>
    public bool ForgetReservation(PeerId relay) => _reservations.TryRemove(relay, out _);

    /// <summary><c>…/p2p/RELAY/p2p-circuit</c>: how peers reach us through the relay at <paramref name="relay"/>.</summary>
    private static Multiaddr CircuitAddress(Multiaddr relay) => relay.Encapsulate(ListenAddress);

    /// <summary>Splits a relayed address at its last <c>/p2p-circuit</c> into the relay's address and the target, if named.</summary>
    private static (Multiaddr Relay, PeerId? Target)? Split(Multiaddr address)
    {
        var components = address.Components;
        var circuit = -1;
        for (var i = components.Length - 1; i >= 0; i--)
        {
            if (components[i].Protocol == MultiaddrProtocol.P2pCircuit)
            {
                circuit = i;
                break;
            }
        }

        var rest = components.Length - circuit - 1;
        if (circuit < 0 || rest > 1 || (rest == 1 && components[^1].Protocol != MultiaddrProtocol.P2p))
        {
            return null;
        }

        address.TryGetPeerId(out var target);
        return (Multiaddr.Create(components.AsSpan(0, circuit)), rest == 1 ? target : null);
    }

    private void CheckVoucher(PeerId relay, RelayReservation reservation)
    {
        try
        {
            var voucher = RelayVoucher.Open(reservation.Voucher);
            if (voucher.Relay != relay || voucher.Peer != Host.PeerId)
            {
                throw new RecordVerificationException($"the voucher is of relay {voucher.Relay} for {voucher.Peer}");
            }
        }
        catch (Exception ex) when (ex is WireFormatException or RecordVerificationException)
        {
            throw new IOException($"relay {relay} sent an invalid reservation voucher: {ex.Message}", ex);
        }
    }

    private async Task<IConnection> ConnectToRelayAsync(Multiaddr relayAddress, CancellationToken cancellationToken)
    {
        // A relay named only by its id (/p2p/RELAY/p2p-circuit/…) is reached through a connection we have or its known addresses.
        var onlyPeerId = relayAddress.Components.Length == 1 && relayAddress.TryGetPeerId(out _);
        var connection = onlyPeerId && relayAddress.TryGetPeerId(out var relay)
            ? await Host.ConnectAsync(relay, cancellationToken).ConfigureAwait(false)
            : await Host.ConnectAsync(relayAddress, cancellationToken).ConfigureAwait(false);
        if (connection.IsLimited)
        {
            // Circuits are not nested: the relay itself must be reachable directly.
            throw new IOException($"the only connection to relay {connection.RemotePeer} is itself relayed");
        }

        return connection;
    }

    private async Task HandleStopAsync(IStream stream, CancellationToken cancellationToken)
    {
        var relay = stream.Connection.RemotePeer;
        StopMessage request;
        try
        {
            using var deadline = new CancellationTokenSource(_options.RequestTimeout, _timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            request = await CircuitRelaySession.ReadStopAsync(stream.Input, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WireFormatException or IOException or OperationCanceledException)
        {
            LogStopRefused(_logger, relay, ex.Message);
            await AnswerStopAsync(stream, ex is WireFormatException ? RelayStatus.MalformedMessage : null, cancellationToken).ConfigureAwait(false);
            return;
        }

        PeerId initiator;
        try
        {
            initiator = request.Type == StopMessageType.Connect
                ? CircuitRelayCodec.ParsePeerId(request.Peer ?? throw new WireFormatException("CONNECT without a peer"))
                : throw new WireFormatException($"a stop request of type {request.Type}");
        }
        catch (WireFormatException ex)
        {
            LogStopRefused(_logger, relay, ex.Message);
            await AnswerStopAsync(stream, request.Type == StopMessageType.Connect ? RelayStatus.MalformedMessage : RelayStatus.UnexpectedMessage, cancellationToken).ConfigureAwait(false);
            return;
        }

        var listener = Volatile.Read(ref _listener);
        if (listener is null || (_options.AcceptOnlyFromReservedRelays && !_reservations.ContainsKey(relay)))
        {
            LogStopRefused(_logger, relay, listener is null ? "not listening" : "we hold no reservation there");
            await AnswerStopAsync(stream, RelayStatus.PermissionDenied, cancellationToken).ConfigureAwait(false);
            return;
        }

        var connection = new RelayedConnection(
            stream, CircuitAddress(stream.Connection.LocalAddress), CircuitAddress(stream.Connection.RemoteAddress.WithPeerId(relay)), Direction.Inbound);
        if (!listener.TryReserveSlot())
        {
            LogInboxFull(_logger, relay, _options.MaxPendingInboundCircuits);
            await AnswerStopAsync(stream, RelayStatus.ResourceLimitExceeded, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await CircuitRelaySession.WriteAsync(stream.Output, new StopMessage { Type = StopMessageType.Status, Status = RelayStatus.Ok }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            listener.ReleaseSlot();
            LogStopRefused(_logger, relay, ex.Message);
            stream.Reset();
            return;
        }

        LogAccepted(_logger, initiator, relay);
        listener.Deliver(connection);

        // The host disposes the stream when this handler returns, so hold it for as long as the circuit lives.
        await connection.Closed.ConfigureAwait(false);
    }

    private static async Task AnswerStopAsync(IStream stream, RelayStatus? status, CancellationToken cancellationToken)
    {
        try
        {
            if (status is { } refused)
            {
                await CircuitRelaySession.WriteAsync(stream.Output, new StopMessage { Type = StopMessageType.Status, Status = refused }, cancellationToken).ConfigureAwait(false);
                await stream.CloseWriteAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
        }

        stream.Reset();
    }

    private void StopListening(CircuitListener listener)
    {
        if (Interlocked.CompareExchange(ref _listener, null, listener) == listener)
        {
            _host?.RemoveStreamHandler(RelayService.StopProtocolId);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay client: circuit to {Target} through {Relay} open")]
    private static partial void LogDialled(ILogger logger, PeerId target, PeerId relay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay client: accepted a circuit from {Initiator} through {Relay}")]
    private static partial void LogAccepted(ILogger logger, PeerId initiator, PeerId relay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay client: refused a circuit offered by {Relay}: {Reason}")]
    private static partial void LogStopRefused(ILogger logger, PeerId relay, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay client: refused a circuit offered by {Relay}: {Count} circuits are waiting to be accepted")]
    private static partial void LogInboxFull(ILogger logger, PeerId relay, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay client: reservation on {Relay} until {Expires:O}")]
    private static partial void LogReserved(ILogger logger, PeerId relay, DateTimeOffset expires);

    /// <summary>The inbox of circuits accepted by the stop handler, until the host takes them.</summary>
    private sealed class CircuitListener(CircuitRelayTransport transport, int capacity) : ITransportListener
    {
        private readonly Channel<RelayedConnection> _accepted = Channel.CreateUnbounded<RelayedConnection>();
        private int _pending;

        public Multiaddr ListenAddress => CircuitRelayTransport.ListenAddress;

        public bool TryReserveSlot()
        {
            if (Interlocked.Increment(ref _pending) > capacity)
            {
                Interlocked.Decrement(ref _pending);
                return false;
            }

            return true;
        }

        public void ReleaseSlot() => Interlocked.Decrement(ref _pending);

        public void Deliver(RelayedConnection connection)
        {
            if (!_accepted.Writer.TryWrite(connection))
            {
                ReleaseSlot();
                connection.Abort();
            }
        }

        public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                var connection = await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReleaseSlot();
                return connection;
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync()
        {
            transport.StopListening(this);
            if (_accepted.Writer.TryComplete())
            {
                while (_accepted.Reader.TryRead(out var connection))
                {
                    connection.Abort();
                }
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>A reservation held on a relay.</summary>
/// <param name="Relay">The relay.</param>
/// <param name="Expires">When it lapses unless renewed.</param>
/// <param name="Addresses">Our addresses through the relay (<c>…/p2p/RELAY/p2p-circuit</c>), to advertise.</param>
/// <param name="Limit">The limits the relay puts on each circuit; null when none.</param>
public sealed record RelayReservationInfo(PeerId Relay, DateTimeOffset Expires, IReadOnlyList<Multiaddr> Addresses, RelayLimit? Limit);

/// <summary>A relay (or the target, through it) answered a hop request with a status other than OK.</summary>
public sealed class RelayRefusedException : IOException
{
    public RelayRefusedException()
    {
    }

    public RelayRefusedException(string message)
        : base(message)
    {
    }

    public RelayRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RelayRefusedException(RelayStatus status, string message)
        : base(message)
    {
        Status = status;
    }

    /// <summary>The relay's status.</summary>
    public RelayStatus Status { get; }
}
