using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// noise-libp2p (libp2p/specs noise/README.md) as a connection security protocol: the XX handshake with the signed
/// libp2p payload, then a <see cref="NoiseSecuredPipe"/>. One instance serves any number of connections, concurrently.
/// </summary>
/// <remarks>
/// <para>
/// Static key: one X25519 key pair per instance, generated at construction and never stored (the spec, "Static Key
/// Authentication", allows one key "when noise-libp2p is initialized ... used for all sessions" and says it SHOULD
/// NOT be stored to disk). Its <c>identity_sig</c> is computed once, so a handshake costs no identity signature
/// (an RSA signature per connection would cost more than the handshake itself). Nothing is lost: the static key is
/// only ever sent encrypted to a peer that also learns our identity key, and forward secrecy comes from the
/// per-handshake ephemeral keys. Disposing the instance zeroes the static private key.
/// </para>
/// <para>
/// Failures: the handshake aborts the connection (completes its input, and its output with the exception) before
/// it throws, and logs why. <see cref="WireFormatException"/>: the remote's bytes do not parse (frames, AEAD, the
/// payload protobuf, the identity key, a missing <c>identity_key</c>). <see cref="NoiseHandshakeException"/>: a
/// well-formed payload whose <c>identity_sig</c> does not verify, or no common stream muxer.
/// <see cref="PeerIdMismatchException"/>: the initiator dialled another peer (message 3 is then never sent).
/// <see cref="IOException"/>: the transport ended. <see cref="OperationCanceledException"/>: the caller's token,
/// which is how a handshake timeout is expressed. <see cref="ObjectDisposedException"/>: the instance was disposed.
/// </para>
/// </remarks>
public sealed partial class NoiseSecurity : ISecurityProtocol, IDisposable
{
    // Message 2, the larger of the two messages with a payload, adds e, an encrypted s and the payload tag.
    private const int MaxPayloadLength = NoiseConstants.MaxMessageLength - (2 * NoiseConstants.DhLength) - (2 * NoiseConstants.TagLength);

    private readonly X25519KeyPair _staticKey;
    private readonly Func<X25519KeyPair>? _ephemeralKeyFactory;
    private readonly string[] _streamMuxers;
    private readonly byte[] _localPayload;
    private readonly ILogger _logger;
    private volatile bool _disposed;

    /// <summary>Creates the protocol for the local identity, with a fresh static key.</summary>
    /// <param name="identity">The local libp2p identity key, which signs the static key.</param>
    /// <param name="streamMuxers">The stream muxer protocol ids we support, most preferred first, announced in the
    /// <c>stream_muxers</c> extension; empty to send no extension (the muxer is then negotiated after the handshake).</param>
    /// <param name="logger">Receives the reason of every failed handshake.</param>
    public NoiseSecurity(PrivateKey identity, IReadOnlyList<string> streamMuxers, ILogger logger)
        : this(identity, streamMuxers, logger, staticKey: null, ephemeralKeyFactory: null)
    {
    }

    /// <summary>The seam for test vectors and fuzzing: a fixed static key (which the instance then owns) and
    /// ephemeral keys.</summary>
    internal NoiseSecurity(PrivateKey identity, IReadOnlyList<string> streamMuxers, ILogger logger, X25519KeyPair? staticKey, Func<X25519KeyPair>? ephemeralKeyFactory)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(streamMuxers);
        ArgumentNullException.ThrowIfNull(logger);
        foreach (var muxer in streamMuxers)
        {
            if (string.IsNullOrEmpty(muxer))
            {
                throw new ArgumentException("a stream muxer protocol id is null or empty", nameof(streamMuxers));
            }
        }

        _streamMuxers = [.. streamMuxers];
        _logger = logger;
        _ephemeralKeyFactory = ephemeralKeyFactory;
        LocalPeer = PeerId.FromPublicKey(identity.GetPublicKey());
        _staticKey = staticKey ?? X25519KeyPair.Generate();
        try
        {
            var payload = new NoiseHandshakePayload
            {
                IdentityKey = identity.GetPublicKey().ToProtobuf(),
                IdentitySignature = NoiseIdentityProof.Sign(identity, _staticKey.PublicKey),
                Extensions = _streamMuxers.Length == 0 ? null : new NoiseExtensions { StreamMuxers = _streamMuxers },
            };
            _localPayload = payload.ToBytes();
            if (_localPayload.Length > MaxPayloadLength)
            {
                throw new ArgumentException($"the handshake payload would have {_localPayload.Length} bytes, more than a Noise message can carry ({MaxPayloadLength})", nameof(streamMuxers));
            }
        }
        catch
        {
            _staticKey.Dispose();
            throw;
        }
    }

    /// <summary><c>/noise</c>.</summary>
    public string ProtocolId => NoiseConstants.ProtocolId;

    /// <summary>The local peer id, derived from the identity key.</summary>
    public PeerId LocalPeer { get; }

    /// <summary>The stream muxers announced in the handshake, most preferred first.</summary>
    public IReadOnlyList<string> StreamMuxers => _streamMuxers;

    /// <inheritdoc/>
    /// <remarks>The responder's payload (message 2) is verified, and the muxer lists compared, before message 3 is
    /// sent: a rejected responder never receives message 3, so never learns who dialled.</remarks>
    public ValueTask<SecuredChannel> SecureOutboundAsync(IDuplexPipe connection, PeerId? expectedRemotePeer, CancellationToken cancellationToken = default) =>
        SecureAsync(connection, initiator: true, expectedRemotePeer, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<SecuredChannel> SecureInboundAsync(IDuplexPipe connection, CancellationToken cancellationToken = default) =>
        SecureAsync(connection, initiator: false, expectedRemotePeer: null, cancellationToken);

    /// <summary>Zeroes the static private key; handshakes still running then fail.</summary>
    public void Dispose()
    {
        _disposed = true;
        _staticKey.Dispose();
    }

    private async ValueTask<SecuredChannel> SecureAsync(IDuplexPipe connection, bool initiator, PeerId? expectedRemotePeer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var role = initiator ? "initiator" : "responder";
        RemoteIdentity? remote = null;
        NoiseHandshakeResult result;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            using var handshake = new HandshakeState(initiator, _staticKey, ephemeralKeyFactory: _ephemeralKeyFactory);
            result = await NoiseHandshake.RunAsync(
                connection,
                handshake,
                _localPayload,
                (remoteStatic, payload) => remote = VerifyRemote(initiator, expectedRemotePeer, remoteStatic, payload),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (ex is WireFormatException or NoiseHandshakeException or PeerIdMismatchException)
            {
                LogRejected(_logger, role, ex.Message, ex);
            }
            else
            {
                LogFailed(_logger, role, ex.Message, ex);
            }

            await connection.Input.CompleteAsync().ConfigureAwait(false);
            await connection.Output.CompleteAsync(ex).ConfigureAwait(false);
            throw;
        }

        // RunAsync returns only after the check accepted the remote.
        var accepted = remote!;
        LogSecured(_logger, role, accepted.Peer, accepted.EarlyMuxer ?? "none");
        return new SecuredChannel(new NoiseSecuredPipe(connection, result.Ciphers, _logger), accepted.Peer, accepted.PublicKey, accepted.EarlyMuxer);
    }

    /// <summary>The libp2p checks of the remote's payload, in the spec's order: identity key, signature over the
    /// static key, the expected peer id (initiator), then the muxer lists.</summary>
    private RemoteIdentity VerifyRemote(bool initiator, PeerId? expectedRemotePeer, ReadOnlySpan<byte> remoteStatic, ReadOnlySpan<byte> payloadBytes)
    {
        var payload = NoiseHandshakePayload.Decode(payloadBytes);
        var publicKey = NoiseIdentityProof.Verify(payload, remoteStatic);
        var peer = PeerId.FromPublicKey(publicKey);
        if (expectedRemotePeer is not null && expectedRemotePeer != peer)
        {
            throw new PeerIdMismatchException(expectedRemotePeer, peer);
        }

        IReadOnlyList<string> remoteMuxers = payload.Extensions?.StreamMuxers ?? [];
        var earlyMuxer = initiator
            ? NoiseMuxerNegotiation.Select(_streamMuxers, remoteMuxers)
            : NoiseMuxerNegotiation.Select(remoteMuxers, _streamMuxers);
        return new RemoteIdentity(peer, publicKey, earlyMuxer);
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Noise handshake as {Role} rejected the remote: {Reason}")]
    private static partial void LogRejected(ILogger logger, string role, string reason, Exception exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Noise handshake as {Role} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string role, string reason, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "Noise handshake as {Role} secured the connection to {RemotePeer}; early stream muxer: {EarlyMuxer}")]
    private static partial void LogSecured(ILogger logger, string role, PeerId remotePeer, string earlyMuxer);

    private sealed record RemoteIdentity(PeerId Peer, PublicKey PublicKey, string? EarlyMuxer);
}
