using System.Reflection;

namespace ToolNet.Fuzz;

/// <summary>A fuzz target: decodes <paramref name="input"/> and, when it decodes, checks that re-encoding round-trips.
/// It may throw <see cref="ToolNet.Protocol.WireFormatException"/> for bad input; any other exception is a finding.</summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>Marks a static <see cref="FuzzTarget"/>-shaped method as the fuzz target <paramref name="name"/>; the name is
/// used on the command line and as its corpus folder under fuzz/corpus.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FuzzTargetAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Every wire decoder's fuzz target, found by <see cref="FuzzTargetAttribute"/>.</summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = Discover();

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>, treating the documented format exception as a clean rejection.</summary>
    public static bool Run(FuzzTarget target, ReadOnlySpan<byte> input)
    {
        try
        {
            target(input);
            return true;
        }
        catch (ToolNet.Protocol.WireFormatException)
        {
            return false;
        }
    }

    private static SortedDictionary<string, FuzzTarget> Discover()
    {
        var targets = new SortedDictionary<string, FuzzTarget>(StringComparer.Ordinal);
        var methods = typeof(FuzzTargets).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic));
        foreach (var method in methods)
        {
            if (method.GetCustomAttribute<FuzzTargetAttribute>() is { } attribute)
            {
                targets.Add(attribute.Name, method.CreateDelegate<FuzzTarget>());
            }
        }

        return targets;
    }
}
