using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace ToolNet.Node.Tests;

/// <summary>A <c>toolnet node --json</c> process: its ready line, then its event lines as they come.</summary>
internal sealed class RunningNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonElement> _lines = Channel.CreateUnbounded<JsonElement>();
    private readonly StringBuilder _log = new();
    private readonly Task _reading;
    private readonly Task _logging;

    private RunningNode(Process process)
    {
        _process = process;
        _reading = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                _lines.Writer.TryWrite(JsonDocument.Parse(line).RootElement.Clone());
            }

            _lines.Writer.TryComplete();
        });
        _logging = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                lock (_log)
                {
                    _log.AppendLine(line);
                }
            }
        });
    }

    public string PeerId { get; private set; } = "";

    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <summary>The first address on TCP.</summary>
    public string TcpAddress => Addresses.First(a => a.Contains("/tcp/", StringComparison.Ordinal) && !a.Contains("/ws", StringComparison.Ordinal) && !a.Contains("p2p-circuit", StringComparison.Ordinal));

    /// <summary>What the node logged so far, for failure messages.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<RunningNode> StartAsync(string dataDirectory, params string[] args)
    {
        var process = Process.Start(ToolnetProcess.StartInfo(
            ["node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0", "--data", dataDirectory, "--log-level", "Debug", .. args]))!;
        var node = new RunningNode(process);
        var ready = await node.NextEventAsync(_ => true, TimeSpan.FromSeconds(60));
        node.PeerId = ready.GetProperty("peerId").GetString()!;
        node.Addresses = [.. ready.GetProperty("addrs").EnumerateArray().Select(a => a.GetString()!)];
        return node;
    }

    /// <summary>Skips lines until one matches; fails with the node's log when none does in time.</summary>
    public async Task<JsonElement> NextEventAsync(Func<JsonElement, bool> match, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(deadline.Token);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException("no matching line from toolnet node; its log:\n" + Log, e);
        }
    }

    /// <summary>The next <c>{"event":<paramref name="name"/>,…}</c> line that <paramref name="match"/> accepts.</summary>
    public Task<JsonElement> NextEventAsync(string name, Func<JsonElement, bool>? match = null) =>
        NextEventAsync(e => e.TryGetProperty("event", out var kind) && kind.GetString() == name && (match?.Invoke(e) ?? true));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        await Task.WhenAll(_reading, _logging);
        _process.Dispose();
    }
}
