using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ToolNet.Interop.Tests;

/// <summary>
/// A js-libp2p 3.3.11 node in a child process (tests/Interop/js/peer.mjs), driven by JSON-line commands on stdin;
/// see tests/Interop/js/README.md for the contract.
/// </summary>
internal sealed class JsPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<JsonObject> _events = new();
    private readonly SemaphoreSlim _eventSignal = new(0);
    private readonly TaskCompletionSource<JsonObject> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readLoop;
    private readonly Task<string> _stderr;
    private int _nextId;

    private JsPeer(Process process)
    {
        _process = process;
        _readLoop = ReadLoopAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string PeerId { get; private set; } = "";

    public IReadOnlyList<string> Addresses { get; private set; } = [];

    public string TcpAddress => Addresses.First(a => !a.Contains("/ws", StringComparison.Ordinal));

    public string WsAddress => Addresses.First(a => a.Contains("/ws", StringComparison.Ordinal));

    /// <summary>The folder holding peer.mjs, found from the test output folder upwards.</summary>
    public static string ScriptDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "Interop", "js");
                if (File.Exists(Path.Combine(candidate, "peer.mjs")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("tests/Interop/js/peer.mjs not found above " + AppContext.BaseDirectory);
        }
    }

    public static async Task<JsPeer> StartAsync(params string[] args)
    {
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--import", "./polyfill.mjs", "peer.mjs", "--no-connection-monitor", .. args])
        {
            info.ArgumentList.Add(arg);
        }

        var peer = new JsPeer(Process.Start(info)!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        JsonObject ready;
        try
        {
            ready = await peer._ready.Task.WaitAsync(timeout.Token);
        }
        catch (Exception e)
        {
            var stderr = await peer.StopAndGetStderrAsync();
            throw new InvalidOperationException("the js peer did not start: " + stderr, e);
        }

        peer.PeerId = ready["peerId"]!.GetValue<string>();
        peer.Addresses = [.. ready["addrs"]!.AsArray().Select(a => a!.GetValue<string>())];
        return peer;
    }

    /// <summary>Sends a command and waits for its reply; throws with js's error when it fails.</summary>
    public async Task<JsonObject> CommandAsync(string cmd, object? arguments = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = arguments is null ? new JsonObject() : JsonSerializer.SerializeToNode(arguments)!.AsObject();
        message["id"] = id;
        message["cmd"] = cmd;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        await _process.StandardInput.WriteLineAsync(message.ToJsonString());
        await _process.StandardInput.FlushAsync();
        var result = await reply.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(120));
        if (result["ok"]?.GetValue<bool>() != true)
        {
            throw new JsPeerException($"js {cmd} failed: {result["error"]}");
        }

        return result;
    }

    /// <summary>Waits for the next event matching <paramref name="predicate"/> (events seen before also count).</summary>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> predicate, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var seen = new List<JsonObject>();
        try
        {
            while (true)
            {
                while (_events.TryDequeue(out var e))
                {
                    if (predicate(e))
                    {
                        foreach (var other in seen)
                        {
                            _events.Enqueue(other);
                        }

                        return e;
                    }

                    seen.Add(e);
                }

                await _eventSignal.WaitAsync(cts.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no matching js event; saw: " + string.Join(" | ", seen.Select(e => e.ToJsonString())));
        }
    }

    /// <summary>Every `error` event js reported (an interop test fails on any).</summary>
    public IReadOnlyList<JsonObject> Errors => [.. _events.Where(e => e["event"]?.GetValue<string>() == "error")];

    public async ValueTask DisposeAsync() => await StopAndGetStderrAsync();

    private async Task<string> StopAndGetStderrAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(exit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }

        var stderr = await _stderr;
        _process.Dispose();
        return stderr;
    }

    private async Task ReadLoopAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (JsonNode.Parse(line) is not JsonObject message)
            {
                continue;
            }

            if (message["event"]?.GetValue<string>() == "ready")
            {
                _ready.TrySetResult(message);
            }
            else if (message["event"] is not null)
            {
                _events.Enqueue(message);
                _eventSignal.Release();
            }
            else if (message["id"] is JsonValue id && id.TryGetValue<int>(out var key) && _pending.TryRemove(key, out var reply))
            {
                reply.TrySetResult(message);
            }
        }

        _ready.TrySetException(new EndOfStreamException("the js peer exited"));
        foreach (var reply in _pending.Values)
        {
            reply.TrySetException(new EndOfStreamException("the js peer exited"));
        }
    }
}

/// <summary>A js peer command failed.</summary>
internal sealed class JsPeerException(string message) : Exception(message);
