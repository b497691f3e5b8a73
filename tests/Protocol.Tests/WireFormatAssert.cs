namespace ToolNet.Protocol.Tests;

/// <summary>Assertions about the documented format exception.</summary>
internal static class WireFormatAssert
{
    /// <summary>True when <paramref name="decode"/> throws <see cref="WireFormatException"/>, false when it returns;
    /// any other exception propagates and fails the test.</summary>
    public static bool Rejects(Action decode)
    {
        try
        {
            decode();
            return false;
        }
        catch (WireFormatException)
        {
            return true;
        }
    }
}
