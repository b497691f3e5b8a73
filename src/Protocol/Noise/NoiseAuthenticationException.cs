namespace ToolNet.Protocol.Noise;

/// <summary>
/// A Noise message failed ChaCha20-Poly1305 authentication: it was tampered with, truncated, replayed, or sent
/// under other keys. It is a <see cref="WireFormatException"/> because the cause is always bytes from the remote;
/// the connection that delivered them must be closed (a Noise cipher state is unusable after a lost message).
/// </summary>
public sealed class NoiseAuthenticationException : WireFormatException
{
    public NoiseAuthenticationException()
        : base("Noise message failed authentication")
    {
    }

    public NoiseAuthenticationException(string message)
        : base(message)
    {
    }

    public NoiseAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
