using System.Globalization;

namespace ToolNet.Node.Cli;

/// <summary>Byte counts on the command line: a plain number, or one with a unit (KiB, MiB, GiB, KB, MB, GB).</summary>
internal static class ByteSize
{
    private static readonly (string Suffix, ulong Factor)[] Units =
    [
        ("KiB", 1UL << 10), ("MiB", 1UL << 20), ("GiB", 1UL << 30), ("TiB", 1UL << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("B", 1),
    ];

    public static bool TryParse(string text, out ulong bytes)
    {
        text = text.Trim();
        foreach (var (suffix, factor) in Units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                var number = text[..^suffix.Length].Trim();
                if (ulong.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= ulong.MaxValue / factor)
                {
                    bytes = value * factor;
                    return true;
                }

                bytes = 0;
                return false;
            }
        }

        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }
}
