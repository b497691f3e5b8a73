namespace ToolNet.Protocol.Yamux;

/// <summary>The yamux frame type (libp2p/specs yamux/README.md, "Type Field").</summary>
public enum YamuxFrameType : byte
{
    /// <summary>Carries <see cref="YamuxFrameHeader.Length"/> bytes of stream data after the header.</summary>
    Data = 0,

    /// <summary>Grows the receiver's send window by <see cref="YamuxFrameHeader.Length"/> bytes.</summary>
    WindowUpdate = 1,

    /// <summary>Round-trip measurement and keep-alive; the length is an opaque value that is echoed back.</summary>
    Ping = 2,

    /// <summary>Session termination; the length is a <see cref="YamuxGoAwayCode"/>.</summary>
    GoAway = 3,
}

/// <summary>The yamux frame flags (libp2p/specs yamux/README.md, "Flag Field").</summary>
[Flags]
public enum YamuxFrameFlags : ushort
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Opens a stream; on a ping, marks the request.</summary>
    Syn = 0x1,

    /// <summary>Accepts a stream; on a ping, marks the response.</summary>
    Ack = 0x2,

    /// <summary>Half-closes the sender's side of a stream.</summary>
    Fin = 0x4,

    /// <summary>Resets a stream in both directions.</summary>
    Rst = 0x8,
}

/// <summary>The error code carried by a go-away frame.</summary>
public enum YamuxGoAwayCode : uint
{
    /// <summary>Normal termination.</summary>
    Normal = 0,

    /// <summary>The remote broke the protocol.</summary>
    ProtocolError = 1,

    /// <summary>The sender failed internally.</summary>
    InternalError = 2,
}
