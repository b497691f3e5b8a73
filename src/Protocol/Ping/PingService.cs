using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Ping;

/// <summary>
/// The node's ping service (<c>/ipfs/ping/1.0.0</c>): echoes inbound pings, at most
/// <see cref="PingOptions.MaxInboundStreamsPerConnection"/> streams at once per connection, and pings peers,
/// recording each round trip in the host's peer store. Outbound pings to one peer share a single stream at a time,
/// as the spec requires ("MUST NOT keep more than one outbound stream for the ping protocol per peer").
/// </summary>
public sealed class PingService : IDisposable
{
    /// <summary>The ping protocol id.</summary>
    public const string ProtocolId = "/ipfs/ping/1.0.0";

    private readonly IHost _host;
    private readonly PingOptions _options;
    private readonly HandlerRegistration _registration;
    private readonly Dictionary<PeerId, PeerGate> _gates = [];

    /// <summary>Registers the ping handler on <paramref name="host"/>.</summary>
    public PingService(IHost host, PingOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
        _options = options ?? PingOptions.Default;

        // Ping is how liveness of a relayed connection is checked, so it runs on limited connections too.
        _registration = HandlerRegistration.ForSession(
            host,
            ProtocolId,
            async (s, ct) => await PingSession.EchoAsync(s, ct),
            new StreamHandlerOptions { MaxInboundStreamsPerConnection = _options.MaxInboundStreamsPerConnection, RunOnLimitedConnection = true },
            logger);
    }

    /// <summary>Pings the peer of <paramref name="connection"/> <paramref name="count"/> times on one new stream
    /// (after any outbound ping to that peer under way has finished) and records each round trip.</summary>
    /// <returns>The round-trip times, in order.</returns>
    /// <exception cref="PingException">An echo differed from its payload, or the peer closed before echoing.</exception>
    /// <exception cref="TimeoutException">A round trip took longer than <see cref="PingOptions.Timeout"/>.</exception>
    /// <exception cref="IOException">The stream could not be opened or failed.</exception>
    public async Task<IReadOnlyList<TimeSpan>> PingAsync(IConnection connection, int count = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ObjectDisposedException.ThrowIf(_registration.IsDisposed, this);
        var peer = connection.RemotePeer;
        var gate = await EnterAsync(peer, cancellationToken);
        try
        {
            return await ProtocolStreams.RunAsync(
                connection,
                ProtocolId,
                async (stream, ct) =>
                {
                    var roundTrips = await PingAsync(stream, count, ct);
                    await stream.CloseWriteAsync(ct);
                    return roundTrips;
                },
                cancellationToken);
        }
        finally
        {
            Leave(peer, gate);
        }
    }

    /// <summary>Pings <paramref name="peer"/> over an existing connection, or a new one to its known addresses.</summary>
    /// <inheritdoc cref="PingAsync(IConnection, int, CancellationToken)"/>
    public async Task<IReadOnlyList<TimeSpan>> PingAsync(PeerId peer, int count = 1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return await PingAsync(await _host.ConnectAsync(peer, cancellationToken), count, cancellationToken);
    }

    /// <summary>Pings <paramref name="count"/> times on <paramref name="stream"/>, an open ping stream the caller
    /// owns (and closes), and records each round trip for the stream's peer.</summary>
    /// <inheritdoc cref="PingAsync(IConnection, int, CancellationToken)"/>
    public async Task<IReadOnlyList<TimeSpan>> PingAsync(IStream stream, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var peer = stream.Connection.RemotePeer;
        var payload = new byte[PingSession.PayloadLength];
        var roundTrips = new TimeSpan[count];
        for (var i = 0; i < count; i++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.Timeout);
            try
            {
                roundTrips[i] = await PingSession.PingOnceAsync(stream, payload, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no ping echo from {peer} within {_options.Timeout}");
            }

            _host.PeerStore.RecordLatency(peer, roundTrips[i]);
        }

        return roundTrips;
    }

    /// <summary>Removes the handler; pings under way finish.</summary>
    public void Dispose() => _registration.Dispose();

    /// <summary>Waits for the peer's outbound ping slot. Gates live only while someone uses them.</summary>
    private async ValueTask<PeerGate> EnterAsync(PeerId peer, CancellationToken cancellationToken)
    {
        PeerGate? gate;
        lock (_gates)
        {
            if (!_gates.TryGetValue(peer, out gate))
            {
                _gates[peer] = gate = new PeerGate();
            }

            gate.Users++;
        }

        try
        {
            await gate.Semaphore.WaitAsync(cancellationToken);
            return gate;
        }
        catch
        {
            Release(peer, gate, entered: false);
            throw;
        }
    }

    private void Leave(PeerId peer, PeerGate gate) => Release(peer, gate, entered: true);

    private void Release(PeerId peer, PeerGate gate, bool entered)
    {
        if (entered)
        {
            gate.Semaphore.Release();
        }

        lock (_gates)
        {
            if (--gate.Users == 0)
            {
                _gates.Remove(peer);
                gate.Semaphore.Dispose();
            }
        }
    }

    private sealed class PeerGate
    {
        public SemaphoreSlim Semaphore { get; } = new(1, 1);

        public int Users { get; set; }
    }
}
