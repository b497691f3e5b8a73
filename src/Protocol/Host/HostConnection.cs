using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Host;

/// <summary>
/// One upgraded connection of a <see cref="Libp2pHost"/>: opens outbound streams, and runs the accept loop that
/// negotiates each inbound stream and hands it to its protocol's handler within that protocol's limits.
/// </summary>
internal sealed class HostConnection : IConnection, IDisposable
{
    private readonly Libp2pHost _host;
    private readonly IMuxedConnection _muxed;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, int> _inboundStreamsByProtocol = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();

    // Cached: handlers keep the token after the source is cancelled and disposed with the connection.
    private readonly CancellationToken _closingToken;
    private int _streamCount;

    public HostConnection(string id, Libp2pHost host, ITransportConnection raw, UpgradeResult upgrade, bool isLimited, ILogger logger)
    {
        _host = host;
        _muxed = upgrade.Muxed;
        _logger = logger;
        Id = id;
        RemotePeer = upgrade.Secured.RemotePeer;
        RemotePublicKey = upgrade.Secured.RemotePublicKey;
        LocalAddress = raw.LocalAddress;
        RemoteAddress = raw.RemoteAddress;
        Direction = raw.Direction;
        IsLimited = isLimited;
        Security = upgrade.Security;
        Muxer = upgrade.Muxer;
        Opened = host.TimeProvider.GetUtcNow();
        Completion = _muxed.Completion;
        _closingToken = _closing.Token;
    }

    public string Id { get; }

    public PeerId RemotePeer { get; }

    public PublicKey RemotePublicKey { get; }

    public Multiaddr LocalAddress { get; }

    public Multiaddr RemoteAddress { get; }

    public Direction Direction { get; }

    public bool IsLimited { get; }

    public string Security { get; }

    public string Muxer { get; }

    public DateTimeOffset Opened { get; }

    public int StreamCount => Volatile.Read(ref _streamCount);

    public Task Completion { get; }

    /// <summary>The underlying muxed connection (for muxer-specific features such as an RTT ping).</summary>
    public IMuxedConnection Muxed => _muxed;

    /// <summary>Starts the inbound stream loop.</summary>
    public void Start() => _ = AcceptStreamsAsync();

    public async ValueTask<IStream> NewStreamAsync(IReadOnlyList<string> protocols, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(protocols);
        var stream = await _muxed.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Full (not lazy) negotiation: js-libp2p 3.x misses the end of a stream whose proposal, data and FIN
            // arrive together, so a caller must be free to half-close right after its first write.
            var protocol = await MultistreamSelect.SelectAsync(stream, protocols, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _streamCount);
            return new HostStream(stream, protocol, this, () => Interlocked.Decrement(ref _streamCount));
        }
        catch
        {
            stream.Reset();
            throw;
        }
    }

    public async ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        await _muxed.CloseAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called by the host once the connection has closed: stops handlers still running on it.</summary>
    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }

    public override string ToString() => $"{Id} {Direction} {RemotePeer} {RemoteAddress}";

    private async Task AcceptStreamsAsync()
    {
        try
        {
            while (await _muxed.AcceptStreamAsync(_closingToken).ConfigureAwait(false) is { } stream)
            {
                _ = HandleInboundStreamAsync(stream);
            }
        }
        catch (OperationCanceledException) when (_closingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            HostLog.AcceptLoopEnded(_logger, Id, e);
        }
    }

    private async Task HandleInboundStreamAsync(IMuxedStream stream)
    {
        string protocol;
        using (var negotiation = CancellationTokenSource.CreateLinkedTokenSource(_closingToken))
        {
            negotiation.CancelAfter(_host.Options.NegotiationTimeout);
            try
            {
                protocol = await MultistreamSelect.HandleAsync(stream, AcceptsProtocol, _host.Protocols, negotiation.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ProtocolNegotiationException or OperationCanceledException or IOException)
            {
                _host.Refuse(Refusal.StreamNegotiationFailed, $"{this}: inbound stream {stream.Id} not negotiated: {e.Message}");
                stream.Reset();
                return;
            }
        }

        if (!_host.TryGetHandler(protocol, out var registration))
        {
            // Removed between negotiation and dispatch.
            _host.Refuse(Refusal.StreamNegotiationFailed, $"{this}: {protocol} is no longer handled (stream {stream.Id})");
            stream.Reset();
            return;
        }

        if (!TryReserveInboundSlot(protocol, registration.Options.MaxInboundStreamsPerConnection))
        {
            _host.Refuse(Refusal.ProtocolStreamLimit, $"{this}: more than {registration.Options.MaxInboundStreamsPerConnection} inbound {protocol} streams; resetting stream {stream.Id}");
            stream.Reset();
            return;
        }

        Interlocked.Increment(ref _streamCount);
        var hostStream = new HostStream(stream, protocol, this, () =>
        {
            Interlocked.Decrement(ref _streamCount);
            ReleaseInboundSlot(protocol);
        });
        try
        {
            await registration.Handler(hostStream, _closingToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            HostLog.HandlerFailed(_logger, Id, protocol, stream.Id, e);
            hostStream.Reset();
        }
        finally
        {
            await hostStream.DisposeAsync().ConfigureAwait(false);
        }
    }

    // A limited (relayed) connection only negotiates protocols whose handler opted in, so the remote is told "na"
    // rather than having its stream reset after agreement.
    private bool AcceptsProtocol(string protocol)
    {
        if (!_host.TryGetHandler(protocol, out var registration))
        {
            return false;
        }

        if (IsLimited && !registration.Options.RunOnLimitedConnection)
        {
            _host.Refuse(Refusal.LimitedConnection, $"{this}: {protocol} does not run on limited connections");
            return false;
        }

        return true;
    }

    private bool TryReserveInboundSlot(string protocol, int limit)
    {
        lock (_sync)
        {
            _inboundStreamsByProtocol.TryGetValue(protocol, out var count);
            if (count >= limit)
            {
                return false;
            }

            _inboundStreamsByProtocol[protocol] = count + 1;
            return true;
        }
    }

    private void ReleaseInboundSlot(string protocol)
    {
        lock (_sync)
        {
            if (_inboundStreamsByProtocol.TryGetValue(protocol, out var count) && count > 1)
            {
                _inboundStreamsByProtocol[protocol] = count - 1;
            }
            else
            {
                _inboundStreamsByProtocol.Remove(protocol);
            }
        }
    }
}
