namespace ToolNet.Protocol.Multistream;

/// <summary>Why a multistream-select negotiation failed.</summary>
public enum NegotiationFailure
{
    /// <summary>The peers share no protocol: every proposal was answered with <c>na</c>.</summary>
    NotSupported,

    /// <summary>The remote broke the protocol: a malformed or oversized message, a wrong header, an answer
    /// that is neither the echo of the proposal nor <c>na</c>.</summary>
    ProtocolViolation,

    /// <summary>The remote closed its side of the stream before the negotiation finished.</summary>
    RemoteClosed,

    /// <summary>The remote kept proposing unsupported protocols past the responder's bound.</summary>
    TooManyAttempts,
}

/// <summary>
/// A multistream-select negotiation failed; <see cref="Failure"/> says how. The negotiation leaves the stream
/// as it is: the caller closes or resets it (and logs <see cref="Exception.Message"/>). Malformed input from the
/// remote arrives as <see cref="NegotiationFailure.ProtocolViolation"/> with the codec's
/// <see cref="WireFormatException"/> as <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class ProtocolNegotiationException : IOException
{
    public ProtocolNegotiationException()
        : this(NegotiationFailure.ProtocolViolation, "multistream-select negotiation failed")
    {
    }

    public ProtocolNegotiationException(string message)
        : this(NegotiationFailure.ProtocolViolation, message)
    {
    }

    public ProtocolNegotiationException(string message, Exception innerException)
        : this(NegotiationFailure.ProtocolViolation, message, innerException)
    {
    }

    public ProtocolNegotiationException(NegotiationFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>How the negotiation failed.</summary>
    public NegotiationFailure Failure { get; }
}
