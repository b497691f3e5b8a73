namespace ToolNet.Protocol.Crypto;

/// <summary>
/// An identity file exists but cannot be used (unreadable, too open, not a libp2p private key), or cannot be
/// created. The file is never replaced: an operator has to look at it.
/// </summary>
public sealed class IdentityFileException : Exception
{
    public IdentityFileException()
    {
    }

    public IdentityFileException(string message)
        : base(message)
    {
    }

    public IdentityFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="path"/> with the <paramref name="reason"/> it is unusable.</summary>
    public IdentityFileException(string path, string reason, Exception? innerException = null)
        : base($"identity file '{path}': {reason}", innerException)
    {
        FilePath = path;
        Reason = reason;
    }

    /// <summary>The identity file's path.</summary>
    public string? FilePath { get; }

    /// <summary>Why the file cannot be used, without the path.</summary>
    public string? Reason { get; }
}
