using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ToolNet.Node.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("toolnet-node-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Regression: System.CommandLine handled no signal, so SIGTERM killed the node at once (exit 143) and its peers saw
    // their connections reset instead of closed.
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task The_node_shuts_down_gracefully_on_a_termination_signal(string signal)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var node = Process.Start(ToolnetProcess.StartInfo(
            "node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/tcp/0/ws", "--data", _directory, "--log-level", "Debug"))!;
        var log = new StringBuilder();
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logging = Task.Run(async () =>
        {
            while (await node.StandardError.ReadLineAsync(deadline.Token) is { } line)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }

                if (line.Contains(" opened: Inbound ", StringComparison.Ordinal))
                {
                    connected.TrySetResult();
                }
            }
        });
        try
        {
            var ready = JsonDocument.Parse((await node.StandardOutput.ReadLineAsync(deadline.Token))!).RootElement;
            // A connection is open while the node stops: a client pings it on the WebSocket address.
            var address = ready.GetProperty("addrs").EnumerateArray().Select(a => a.GetString()!).Single(a => a.Contains("/ws/", StringComparison.Ordinal));
            var pinging = ToolnetProcess.RunAsync("ping", address, "-n", "100000", "--json");
            await connected.Task.WaitAsync(deadline.Token);

            await SignalAsync(node, signal, deadline.Token);

            await node.WaitForExitAsync(deadline.Token);
            await logging.WaitAsync(deadline.Token);
            Assert.True(node.ExitCode == 0, $"toolnet node exited with {node.ExitCode}: {log}");
            var ping = await pinging.WaitAsync(deadline.Token);
            Assert.Equal(1, ping.ExitCode);
            // The node closed the connection (yamux go-away), rather than the process dying under it.
            Assert.DoesNotContain("reset", ping.Stderr, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (!node.HasExited)
            {
                node.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task An_interrupted_client_command_reports_it_and_exits_130()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var node = Process.Start(ToolnetProcess.StartInfo("node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0", "--data", _directory, "--log-level", "Debug"))!;
        try
        {
            var address = JsonDocument.Parse((await node.StandardOutput.ReadLineAsync(deadline.Token))!).RootElement.GetProperty("addrs")[0].GetString()!;
            using var client = Process.Start(ToolnetProcess.StartInfo("ping", address, "-n", "100000", "--json"))!;
            var stderr = client.StandardError.ReadToEndAsync(deadline.Token);
            // The client prints nothing before it ends; the node's log line for its connection tells when it is connected.
            while (await node.StandardError.ReadLineAsync(deadline.Token) is { } line && !line.Contains("opened", StringComparison.Ordinal))
            {
            }

            await SignalAsync(client, "INT", deadline.Token);
            await client.WaitForExitAsync(deadline.Token);

            Assert.Equal(130, client.ExitCode);
            Assert.Equal("interrupted", JsonDocument.Parse(await stderr).RootElement.GetProperty("error").GetString());
        }
        finally
        {
            node.Kill(entireProcessTree: true);
        }
    }

    private static async Task SignalAsync(Process process, string signal, CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(cancellationToken);
    }
}
