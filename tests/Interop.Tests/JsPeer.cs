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
    private readonly Lock _eventsLock = new();
    private readonly List<JsonObject> _events = [];
    private TaskCompletionSource _nextEvent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JsonObject> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _readLoop;
    private readonly Task<string> _stderr;
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private int _nextId;

    private JsPeer(Process process)
    {
        _process = process;
        _readLoop = ReadLoopAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string PeerId { get; private set; } = "";

    public IReadOnlyList<string> Addresses { get; private set; } = [];

    /// <summary>The protocols js announced in its `ready` event.</summary>
    public IReadOnlyList<string> Protocols { get; private set; } = [];

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
        peer.Protocols = [.. ready["protocols"]!.AsArray().Select(p => p!.GetValue<string>())];
        return peer;
    }

    /// <summary>Sends a command and waits for its reply; throws with js's error when it fails.</summary>
    public Task<JsonObject> CommandAsync(string cmd, object? arguments = null, TimeSpan? timeout = null) =>
        CommandAsync(cmd, arguments, CancellationToken.None, timeout);

    /// <summary>
    /// Sends a command and waits for its reply (at most <paramref name="timeout"/>, 120 s by default, or until
    /// <paramref name="cancellationToken"/>); throws <see cref="JsPeerException"/> with js's error when it fails.
    /// </summary>
    public async Task<JsonObject> CommandAsync(string cmd, object? arguments, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = arguments is null ? new JsonObject() : JsonSerializer.SerializeToNode(arguments)!.AsObject();
        message["id"] = id;
        message["cmd"] = cmd;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            await _stdinLock.WaitAsync(cancellationToken);
            try
            {
                await _process.StandardInput.WriteLineAsync(message.ToJsonString());
                await _process.StandardInput.FlushAsync(cancellationToken);
            }
            finally
            {
                _stdinLock.Release();
            }

            var result = await reply.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(120), cancellationToken);
            if (result["ok"]?.GetValue<bool>() != true)
            {
                throw new JsPeerException($"js {cmd} failed: {result["error"]}");
            }

            return result;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw new TimeoutException($"js {cmd} ({message.ToJsonString()}) got no reply in time", e);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Waits for an event matching <paramref name="predicate"/> (at most <paramref name="timeout"/>, 30 s by
    /// default); events seen before the call count too.</summary>
    public async Task<JsonObject> WaitForEventAsync(Func<JsonObject, bool> predicate, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            Task next;
            lock (_eventsLock)
            {
                if (_events.FirstOrDefault(predicate) is { } match)
                {
                    return match;
                }

                next = _nextEvent.Task;
            }

            try
            {
                await next.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("no matching js event; saw: " + string.Join(" | ", Events.Select(e => e.ToJsonString())));
            }
        }
    }

    /// <summary>Every event js wrote so far, in order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get
        {
            lock (_eventsLock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Every `error` event js reported (an interop test fails on any).</summary>
    public IReadOnlyList<JsonObject> Errors => [.. Events.Where(e => e["event"]?.GetValue<string>() == "error")];

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
        await _readLoop;
        _process.Dispose();
        _stdinLock.Dispose();
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
                TaskCompletionSource signal;
                lock (_eventsLock)
                {
                    _events.Add(message);
                    signal = _nextEvent;
                    _nextEvent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                signal.TrySetResult();
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
