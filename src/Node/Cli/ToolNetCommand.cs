using System.CommandLine;
using System.Reflection;

namespace ToolNet.Node.Cli;

/// <summary>The <c>toolnet</c> command line: its commands and their options.</summary>
internal static class ToolNetCommand
{
    /// <summary>Prints machine-readable JSON instead of human text (every command).</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON instead of human-readable text",
        Recursive = true,
    };

    public static RootCommand Create()
    {
        var root = new RootCommand("ToolNet: a peer-to-peer network on which AI agents find and call each other's tools")
        {
            Json,
            VersionCommand(),
            IdentityCommands.Create(),
            NodeCommand.Create(),
            ClientCommands.Id(),
            ClientCommands.Ping(),
            ClientCommands.Perf(),
            PubSubCommands.Create(),
            BenchCommands.Create(),
        };
        return root;
    }

    /// <summary>
    /// How commands run. SIGINT and SIGTERM cancel the running command's token and give it
    /// <see cref="ShutdownTimeout"/> to finish: System.CommandLine 2.0.0 handles neither signal unless a termination
    /// timeout is set, and the process then dies at once (exit 143), so `toolnet node` dropped its connections
    /// without closing them.
    /// </summary>
    public static InvocationConfiguration CreateInvocationConfiguration() => new() { ProcessTerminationTimeout = ShutdownTimeout };

    /// <summary>How long a command may take to stop after SIGINT/SIGTERM: the node closes its connections within 5 s.</summary>
    public static TimeSpan ShutdownTimeout { get; } = TimeSpan.FromSeconds(10);

    public static string InformationalVersion =>
        typeof(ToolNetCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    private static Command VersionCommand()
    {
        var command = new Command("version", "Print the toolnet version");
        command.SetAction(parse =>
        {
            var output = new CommandOutput(parse);
            output.Write(new { version = InformationalVersion }, $"toolnet {InformationalVersion}");
            return 0;
        });
        return command;
    }
}
