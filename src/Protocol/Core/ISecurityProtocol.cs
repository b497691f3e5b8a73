using System.IO.Pipelines;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>A connection security protocol (Noise), negotiated by protocol id on a raw connection.</summary>
public interface ISecurityProtocol
{
    /// <summary>The protocol id, for example <c>/noise</c>.</summary>
    string ProtocolId { get; }

    /// <summary>Runs the handshake as initiator. When <paramref name="expectedRemotePeer"/> is set and the remote
    /// proves another identity, the handshake fails with <see cref="PeerIdMismatchException"/>.</summary>
    ValueTask<SecuredChannel> SecureOutboundAsync(IDuplexPipe connection, PeerId? expectedRemotePeer, CancellationToken cancellationToken = default);

    /// <summary>Runs the handshake as responder.</summary>
    ValueTask<SecuredChannel> SecureInboundAsync(IDuplexPipe connection, CancellationToken cancellationToken = default);
}

/// <summary>The result of a security handshake: an encrypted duplex pipe and the remote's proven identity.</summary>
/// <param name="Pipe">Plaintext in both directions; owns the raw connection's pipes.</param>
/// <param name="RemotePeer">The remote's peer id, derived from <paramref name="RemotePublicKey"/>.</param>
/// <param name="RemotePublicKey">The identity key the remote proved it holds.</param>
/// <param name="EarlyMuxer">The stream muxer agreed inside the handshake (Noise <c>stream_muxers</c> extension), or
/// null when it must be negotiated with multistream-select afterwards.</param>
public sealed record SecuredChannel(IDuplexPipe Pipe, PeerId RemotePeer, PublicKey RemotePublicKey, string? EarlyMuxer);

/// <summary>The remote proved an identity other than the one we dialled.</summary>
public sealed class PeerIdMismatchException : IOException
{
    public PeerIdMismatchException()
    {
    }

    public PeerIdMismatchException(string message)
        : base(message)
    {
    }

    public PeerIdMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PeerIdMismatchException(PeerId expected, PeerId actual)
        : base($"dialled {expected} but the remote proved {actual}")
    {
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The peer we dialled.</summary>
    public PeerId? Expected { get; }

    /// <summary>The peer that answered.</summary>
    public PeerId? Actual { get; }
}
