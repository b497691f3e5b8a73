using System.Diagnostics;
using System.Text.Json;

namespace ToolNet.Node.Tests;

/// <summary><c>toolnet pubsub sub/pub</c> across two <c>toolnet node</c> processes: the message goes
/// pub → node B → node A → sub, so both nodes must relay.</summary>
public sealed class PubSubCommandTests : IDisposable
{
    private const string Topic = "toolnet-cli-test";
    private readonly string _directory = Directory.CreateTempSubdirectory("toolnet-pubsub-").FullName;
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_message_published_at_one_node_is_printed_by_a_subscriber_at_the_other()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var token = deadline.Token;
        var nodeA = await StartNodeAsync("a", [], token);
        var nodeB = await StartNodeAsync("b", ["--bootstrap", nodeA], token);

        var sub = Start("pubsub", "sub", Topic, "--bootstrap", nodeA, "--count", "1", "--json");
        var subErrors = new List<string>();
        var meshed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = Task.Run(async () =>
        {
            while (await sub.StandardError.ReadLineAsync(token) is { } line)
            {
                lock (subErrors)
                {
                    subErrors.Add(line);
                }

                if (line.Contains("subscribed to", StringComparison.Ordinal))
                {
                    meshed.TrySetResult();
                }
            }
        }, token);
        await meshed.Task.WaitAsync(token);

        // Node A grafts the subscriber on its own heartbeat; the subscriber's mesh is what it printed. Publishing
        // again until the subscriber prints keeps the test independent of when A's mesh includes it.
        var line = sub.StandardOutput.ReadLineAsync(token).AsTask();
        while (!line.IsCompleted)
        {
            var pub = await ToolnetProcess.RunAsync("pubsub", "pub", Topic, "hello from b", "--bootstrap", nodeB, "--json");
            Assert.True(pub.ExitCode == 0, pub.Stderr);
            Assert.Equal(Topic, JsonDocument.Parse(pub.Stdout).RootElement.GetProperty("topic").GetString());
            await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(2), token));
        }

        var message = JsonDocument.Parse((await line)!).RootElement;
        Assert.Equal(Topic, message.GetProperty("topic").GetString());
        Assert.Equal("hello from b", message.GetProperty("data").GetString());
        Assert.StartsWith("12D3KooW", message.GetProperty("from").GetString(), StringComparison.Ordinal);
        Assert.True(message.GetProperty("seqno").GetUInt64() > 0);

        await sub.WaitForExitAsync(token);
        Assert.Equal(0, sub.ExitCode);
        await reading;
    }

    private Process Start(params string[] args)
    {
        var process = Process.Start(ToolnetProcess.StartInfo(args))!;
        _processes.Add(process);
        return process;
    }

    private async Task<string> StartNodeAsync(string name, string[] extra, CancellationToken cancellationToken)
    {
        var node = Start(["node", "--json", "--listen", "/ip4/127.0.0.1/tcp/0", "--data", Path.Combine(_directory, name), "--topic", Topic, "--log-level", "Warning", .. extra]);
        _ = node.StandardError.ReadToEndAsync(cancellationToken);
        var ready = JsonDocument.Parse((await node.StandardOutput.ReadLineAsync(cancellationToken))!).RootElement;
        return ready.GetProperty("addrs")[0].GetString()!;
    }
}
