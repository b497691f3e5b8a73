using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Pnet;

namespace ToolNet.Protocol.Host;

/// <summary>
/// Turns a raw transport connection into a secure, multiplexed one (libp2p connections spec, "Upgrading
/// connections"): in a private network, wrap it in the network's pre-shared-key encryption first; multistream-select
/// a security protocol, run its handshake, then take the muxer agreed inside the handshake or multistream-select one
/// on the secured channel, and start it.
/// </summary>
internal sealed class Upgrader
{
    private readonly IReadOnlyList<ISecurityProtocol> _security;
    private readonly IReadOnlyList<IStreamMuxer> _muxers;
    private readonly string[] _securityIds;
    private readonly string[] _muxerIds;
    private readonly ILoggerFactory _loggerFactory;
    private readonly IMuxerResources _resources;
    private readonly PrivateNetworkProtector? _privateNetwork;

    public Upgrader(IReadOnlyList<ISecurityProtocol> security, IReadOnlyList<IStreamMuxer> muxers, IMuxerResources resources, ILoggerFactory loggerFactory, PrivateNetworkProtector? privateNetwork = null)
    {
        if (security.Count == 0 || muxers.Count == 0)
        {
            throw new ArgumentException("a host needs at least one security protocol and one stream muxer");
        }

        _security = security;
        _muxers = muxers;
        _securityIds = [.. security.Select(s => s.ProtocolId)];
        _muxerIds = [.. muxers.Select(m => m.ProtocolId)];
        _loggerFactory = loggerFactory;
        _resources = resources;
        _privateNetwork = privateNetwork;
    }

    /// <summary>The muxer protocol ids in preference order (what the security handshake advertises).</summary>
    public IReadOnlyList<string> MuxerIds => _muxerIds;

    /// <summary>
    /// Secures <paramref name="raw"/>; <paramref name="authorize"/> sees the authenticated peer before any muxer
    /// starts and may refuse it by throwing. On failure the raw connection is aborted.
    /// </summary>
    public async Task<UpgradeResult> UpgradeAsync(
        ITransportConnection raw,
        PeerId? expectedPeer,
        Action<SecuredChannel> authorize,
        CancellationToken cancellationToken)
    {
        try
        {
            var (secured, securityId) = await SecureAsync(raw, expectedPeer, cancellationToken).ConfigureAwait(false);

            authorize(secured);

            var muxerId = secured.EarlyMuxer;
            if (muxerId is null)
            {
                muxerId = raw.Direction == Direction.Outbound
                    ? await MultistreamSelect.SelectAsync(secured.Pipe, _muxerIds, cancellationToken).ConfigureAwait(false)
                    : await MultistreamSelect.HandleAsync(secured.Pipe, _muxerIds, cancellationToken).ConfigureAwait(false);
            }

            var muxer = MuxerFor(muxerId);
            var muxed = muxer.Start(secured.Pipe, raw.Direction, _loggerFactory.CreateLogger(muxer.GetType()), _resources);
            return new UpgradeResult(secured, muxed, securityId, muxerId);
        }
        catch
        {
            raw.Abort();
            throw;
        }
    }

    /// <summary>Negotiates and runs the security handshake, inside the private network when there is one. A garbled
    /// first protocol header is how a private network mismatch shows (pnet spec: noise "will prevent any data exchange
    /// from higher layers"), so it is reported as one.</summary>
    private async Task<(SecuredChannel Secured, string SecurityId)> SecureAsync(ITransportConnection raw, PeerId? expectedPeer, CancellationToken cancellationToken)
    {
        IDuplexPipe channel = raw;
        try
        {
            if (_privateNetwork is not null)
            {
                channel = await _privateNetwork.ProtectAsync(raw, cancellationToken).ConfigureAwait(false);
            }

            SecuredChannel secured;
            string securityId;
            if (raw.Direction == Direction.Outbound && _security.Count == 1)
            {
                // With one security protocol to offer there is nothing to choose: the multistream header, the proposal
                // and the first handshake message leave together, and the responder's echo arrives ahead of its
                // handshake answer, which saves a round trip. After the echo the channel carries only the agreed
                // protocol (connections/README.md, "multistream-select"); a responder without it answers "na", and
                // the handshake fails with that.
                securityId = _securityIds[0];
                var proposed = MultistreamSelect.SelectLazily(channel, securityId);
                secured = await _security[0].SecureOutboundAsync(proposed, expectedPeer, cancellationToken).ConfigureAwait(false);
            }
            else if (raw.Direction == Direction.Outbound)
            {
                securityId = await MultistreamSelect.SelectAsync(channel, _securityIds, cancellationToken).ConfigureAwait(false);
                secured = await SecurityFor(securityId).SecureOutboundAsync(channel, expectedPeer, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                securityId = await MultistreamSelect.HandleAsync(channel, _securityIds, cancellationToken).ConfigureAwait(false);
                secured = await SecurityFor(securityId).SecureInboundAsync(channel, cancellationToken).ConfigureAwait(false);
            }

            return (secured, securityId);
        }
        catch (ProtocolNegotiationException ex) when (_privateNetwork is not null && ex.Failure == NegotiationFailure.ProtocolViolation)
        {
            throw new PrivateNetworkMismatchException(
                $"{raw.RemoteAddress} is not in our private network ({_privateNetwork.Key}): its first bytes are not a protocol header under our key ({ex.Message})", ex);
        }
        catch (IOException ex) when (_privateNetwork is not null && (ex.GetType() == typeof(IOException) || ex is ProtocolNegotiationException))
        {
            // A peer outside the network sees our header as noise and hangs up before we see its bytes.
            throw new PrivateNetworkMismatchException(
                $"{raw.RemoteAddress} hung up before the security handshake finished: most likely it is not in our private network ({_privateNetwork.Key}) ({ex.Message})", ex);
        }
        catch (ProtocolNegotiationException ex) when (ex.Failure == NegotiationFailure.ProtocolViolation)
        {
            throw new ProtocolNegotiationException(
                ex.Failure, $"{ex.Message} (if {raw.RemoteAddress} is in a private network, we need its pre-shared key)", ex);
        }
    }

    // Negotiation only ever agrees on an id we offered, so these lookups cannot miss.
    private ISecurityProtocol SecurityFor(string protocolId) => _security.First(s => s.ProtocolId == protocolId);

    private IStreamMuxer MuxerFor(string protocolId) => _muxers.First(m => m.ProtocolId == protocolId);
}

/// <summary>The outcome of an upgrade.</summary>
internal sealed record UpgradeResult(SecuredChannel Secured, IMuxedConnection Muxed, string Security, string Muxer);
