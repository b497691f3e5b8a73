using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ToolNet.Interop.Tests;

/// <summary>The real <c>toolnet</c> executable (built next to the tests), run as child processes.</summary>
internal static class ToolnetCli
{
    /// <summary>Runs one command to completion (killed at <paramref name="cancellationToken"/>); a non-zero exit
    /// code fails with the command's stderr.</summary>
    /// <returns>The command's stdout, parsed as the one JSON document <c>--json</c> makes it.</returns>
    public static async Task<JsonElement> RunJsonAsync(CancellationToken cancellationToken, params string[] args)
    {
        using var process = Process.Start(StartInfo([.. args, "--json"]))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"toolnet {string.Join(' ', args)} did not finish in time");
        }

        var (output, error) = (await stdout, await stderr);
        Assert.True(process.ExitCode == 0, $"toolnet {string.Join(' ', args)} exited with {process.ExitCode}: {error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "toolnet.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }
}

/// <summary>A <c>toolnet node --json</c> process listening on 127.0.0.1 over TCP and WebSocket.</summary>
internal sealed class ToolnetNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDirectory;
    private readonly Task<string> _stderr;

    private ToolnetNodeProcess(Process process, string dataDirectory)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string PeerId { get; private set; } = "";

    /// <summary>The node's addresses as it printed them, each ending in <c>/p2p/&lt;its id&gt;</c>.</summary>
    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public string Address(Transport transport) => Addresses.Single(a => a.Contains("/ws", StringComparison.Ordinal) == (transport == Transport.WebSocket));

    /// <summary>Starts the node and reads the line it prints once it listens.</summary>
    public static async Task<ToolnetNodeProcess> StartAsync(CancellationToken cancellationToken)
    {
        var data = Directory.CreateTempSubdirectory("toolnet-interop-").FullName;
        var process = Process.Start(ToolnetCli.StartInfo(
            ["node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/tcp/0/ws", "--data", data]))!;
        var node = new ToolnetNodeProcess(process, data);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(cancellationToken)
                ?? throw new InvalidOperationException("toolnet node exited before listening: " + await node._stderr);
            var ready = JsonDocument.Parse(line).RootElement;
            node.PeerId = ready.GetProperty("peerId").GetString()!;
            node.Addresses = [.. ready.GetProperty("addrs").EnumerateArray().Select(a => a.GetString()!)];
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends SIGTERM, on which the node shuts down gracefully, and waits for it to exit; kills it after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            if (!_process.HasExited)
            {
                using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync(timeout.Token);
            }

            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _stderr;
        _process.Dispose();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
