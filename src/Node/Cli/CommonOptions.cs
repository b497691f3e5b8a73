using System.CommandLine;

namespace ToolNet.Node.Cli;

/// <summary>Options several commands share, and where their defaults point.</summary>
internal static class CommonOptions
{
    /// <summary>The default data directory: <c>$TOOLNET_HOME</c>, else <c>~/.toolnet</c>.</summary>
    public static string DefaultDataDirectory =>
        Environment.GetEnvironmentVariable("TOOLNET_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".toolnet");

    public static Option<string?> KeyFile() => new("--key")
    {
        Description = "Identity key file (protobuf-encoded libp2p private key); default: <data>/identity.key",
    };

    public static Option<string?> DataDirectory() => new("--data")
    {
        Description = "Data directory; default: $TOOLNET_HOME or ~/.toolnet",
    };

    public static string ResolveKeyPath(string? keyFile, string? dataDirectory) =>
        Path.GetFullPath(keyFile ?? Path.Combine(dataDirectory ?? DefaultDataDirectory, "identity.key"));
}
