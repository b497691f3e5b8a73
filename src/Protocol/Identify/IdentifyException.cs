namespace ToolNet.Protocol.Identify;

/// <summary>
/// An identify exchange produced nothing usable: the remote's message was malformed (the codec's
/// <see cref="WireFormatException"/> is the <see cref="Exception.InnerException"/>), or it carried a public key that
/// is not the key of the peer on the connection, so the whole message was ignored.
/// </summary>
public sealed class IdentifyException : IOException
{
    public IdentifyException()
    {
    }

    public IdentifyException(string message)
        : base(message)
    {
    }

    public IdentifyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
