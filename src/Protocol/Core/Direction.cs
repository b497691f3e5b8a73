namespace ToolNet.Protocol.Core;

/// <summary>Which side opened a connection or a stream.</summary>
public enum Direction
{
    /// <summary>The remote opened it.</summary>
    Inbound,

    /// <summary>We opened it.</summary>
    Outbound,
}
