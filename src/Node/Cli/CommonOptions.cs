using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;

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

    public static Option<LogLevel> LogLevel(LogLevel defaultLevel) => new("--log-level")
    {
        Description = "Log level on stderr: Trace, Debug, Information, Warning, Error, None",
        DefaultValueFactory = _ => defaultLevel,
    };

    /// <summary>Logs to stderr so that stdout carries only the command's result.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogLevel level) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(level)
        .AddConsole(o => o.LogToStandardErrorThreshold = Microsoft.Extensions.Logging.LogLevel.Trace)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));

    public static bool TryParseAddresses(IEnumerable<string> texts, out IReadOnlyList<Multiaddr> addresses, [NotNullWhen(false)] out string? error)
    {
        var parsed = new List<Multiaddr>();
        foreach (var text in texts)
        {
            if (!Multiaddr.TryParse(text, out var address))
            {
                addresses = [];
                error = $"'{text}' is not a multiaddr";
                return false;
            }

            parsed.Add(address);
        }

        addresses = parsed;
        error = null;
        return true;
    }
}
