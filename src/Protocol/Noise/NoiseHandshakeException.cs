using System.Security.Authentication;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The remote's handshake payload was well-formed but the remote failed the libp2p Noise handshake: its
/// <c>identity_sig</c> does not verify over the static key it used (libp2p/specs noise/README.md, "The libp2p
/// Handshake Payload": "the connection MUST be terminated immediately"), or both sides listed stream muxers and none
/// is common (connections/inlined-muxer-negotiation.md: "the handshake MUST fail").
/// </summary>
/// <remarks>
/// Like <see cref="AuthenticationException"/> from <c>SslStream</c>, it means "this peer could not be authenticated or
/// agreed with", as opposed to <see cref="WireFormatException"/> (bytes that do not parse),
/// <see cref="Core.PeerIdMismatchException"/> (a valid identity, but not the one dialled) and <see cref="IOException"/>
/// (the transport ended). Either way the connection has already been aborted when it is thrown.
/// </remarks>
public sealed class NoiseHandshakeException : AuthenticationException
{
    public NoiseHandshakeException()
        : base("the Noise handshake failed")
    {
    }

    public NoiseHandshakeException(string message)
        : base(message)
    {
    }

    public NoiseHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
