namespace ToolNet.Protocol.Ping;

/// <summary>A ping failed: the echo differed from the payload, or the remote closed the stream before echoing.</summary>
public sealed class PingException : IOException
{
    public PingException()
    {
    }

    public PingException(string message)
        : base(message)
    {
    }

    public PingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
