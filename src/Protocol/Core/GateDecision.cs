namespace ToolNet.Protocol.Core;

/// <summary>
/// The answer of an <see cref="IConnectionGater"/>: allowed, or denied with a reason the host logs. A decision rather
/// than a bool so that a refusal always says why.
/// </summary>
public readonly record struct GateDecision
{
    private GateDecision(bool isAllowed, string? reason)
    {
        IsAllowed = isAllowed;
        Reason = reason;
    }

    /// <summary>The connection may proceed.</summary>
    public static GateDecision Allowed { get; } = new(true, null);

    /// <summary>Whether the connection may proceed. <c>default(GateDecision)</c> is a denial without a reason.</summary>
    public bool IsAllowed { get; }

    /// <summary>Why it was denied; null when allowed.</summary>
    public string? Reason { get; }

    /// <summary>A denial for <paramref name="reason"/>.</summary>
    public static GateDecision Denied(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return new GateDecision(false, reason);
    }

    /// <summary>"allowed", or "denied: " and the reason.</summary>
    public override string ToString() => IsAllowed ? "allowed" : $"denied: {Reason ?? "no reason given"}";
}
