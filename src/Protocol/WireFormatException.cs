namespace ToolNet.Protocol;

/// <summary>
/// The one exception every ToolNet wire decoder throws for malformed input: truncated data,
/// a length over its bound, an unknown code, a non-canonical encoding. Callers that read from
/// the network catch this type, log <see cref="Exception.Message"/>, and close the stream or
/// connection that sent the bytes; nothing else is affected.
/// </summary>
public class WireFormatException : FormatException
{
    public WireFormatException()
    {
    }

    public WireFormatException(string message)
        : base(message)
    {
    }

    public WireFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
