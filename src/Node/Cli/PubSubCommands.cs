using System.Buffers.Binary;
using System.CommandLine;
using System.Text;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.PubSub;

namespace ToolNet.Node.Cli;

/// <summary><c>toolnet pubsub sub|pub</c>, and the pubsub options of <c>toolnet node</c>.</summary>
internal static class PubSubCommands
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Nodes to connect to at start (repeatable).</summary>
    public static Option<string[]> Bootstrap() => new("--bootstrap")
    {
        Description = "Multiaddr of a node to connect to, ending in /p2p/<peer id> (repeatable)",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => [],
    };

    /// <summary>Topics <c>toolnet node</c> joins, and so relays for others (repeatable).</summary>
    public static Option<string[]> Topics() => new("--topic")
    {
        Description = "Pubsub topic to join and relay (repeatable)",
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => [],
    };

    public static Command Create() => new("pubsub", "Watch or publish to a GossipSub topic") { Subscribe(), Publish() };

    /// <summary>Connects to every bootstrap address; returns the error to report when none could be reached.</summary>
    public static async Task<string?> ConnectAsync(NodeServices node, IReadOnlyList<Multiaddr> bootstraps, ILogger logger, CancellationToken cancellationToken)
    {
        var connected = 0;
        var failures = new List<string>();
        foreach (var address in bootstraps)
        {
            try
            {
                await node.Host.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                connected++;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or ToolNet.Protocol.WireFormatException
                or System.Security.Authentication.AuthenticationException or InvalidOperationException)
            {
                failures.Add($"{address}: {e.Message}");
                logger.LogWarning("cannot connect to bootstrap node {Address}: {Reason}", address, e.Message);
            }
        }

        return connected > 0 || bootstraps.Count == 0 ? null : "no bootstrap node could be reached: " + string.Join("; ", failures);
    }

    private static Command Subscribe()
    {
        var topic = new Argument<string>("topic") { Description = "The topic" };
        var bootstrap = Bootstrap();
        var count = new Option<int>("--count") { Description = "Exit after this many messages (default: run until SIGINT)" };
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("sub", "Join a topic and print one line per message (with --json: author, seqno, data)") { topic, bootstrap, count, logLevel };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, bootstrap, logLevel, async (node, output, ct) =>
        {
            var name = parse.GetValue(topic)!;
            var limit = parse.GetValue(count);
            using var subscription = node.PubSub.Subscribe(name);
            _ = ReportMeshAsync(node, name, parse.InvocationConfiguration.Error, ct);
            var received = 0;
            await foreach (var message in subscription.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var author = message.From is { } from ? PeerId.FromBytes(from).ToString() : null;
                var seqno = message.Seqno is { Length: 8 } bytes ? BinaryPrimitives.ReadUInt64BigEndian(bytes) : (ulong?)null;
                var data = message.Data ?? [];
                var text = TryDecodeUtf8(data);
                output.Write(
                    text is null
                        ? new { topic = message.Topic, from = author, seqno, data = (string?)null, dataBase64 = (string?)Convert.ToBase64String(data) }
                        : new { topic = message.Topic, from = author, seqno, data = (string?)text, dataBase64 = (string?)null },
                    $"{author}: {text ?? Convert.ToBase64String(data)}");
                if (limit > 0 && ++received >= limit)
                {
                    break;
                }
            }

            return 0;
        }, cancellationToken));
        return command;
    }

    private static Command Publish()
    {
        var topic = new Argument<string>("topic") { Description = "The topic" };
        var text = new Argument<string>("text") { Description = "The message, sent as UTF-8" };
        var bootstrap = Bootstrap();
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for a peer of the topic", DefaultValueFactory = _ => 10 };
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("pub", "Publish a message to a topic (waits for at least one peer of the topic)") { topic, text, bootstrap, timeout, logLevel };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, bootstrap, logLevel, async (node, output, ct) =>
        {
            var name = parse.GetValue(topic)!;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                wait.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(timeout)));
                try
                {
                    while (node.PubSub.GetTopicPeers(name).Count == 0)
                    {
                        await Task.Delay(50, wait.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return output.Fail($"no peer of topic '{name}' within {parse.GetValue(timeout)} s");
                }
            }

            var (id, peers) = await node.PubSub.PublishAsync(name, Encoding.UTF8.GetBytes(parse.GetValue(text)!), ct).ConfigureAwait(false);
            output.Write(new { topic = name, messageId = id.ToString(), peers }, $"published to {peers} peer(s) of '{name}', message id {id}");
            return 0;
        }, cancellationToken));
        return command;
    }

    /// <summary>Tells (on stderr) when the subscription has its first mesh peer, so a user knows messages can arrive.</summary>
    private static async Task ReportMeshAsync(NodeServices node, string topic, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            while (node.PubSub.GetMeshPeers(topic).Count == 0)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }

            await error.WriteLineAsync($"toolnet: subscribed to '{topic}' with {node.PubSub.GetMeshPeers(topic).Count} mesh peer(s)").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string? TryDecodeUtf8(byte[] data)
    {
        try
        {
            return StrictUtf8.GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Starts a client-only node with a throwaway identity, connects to the bootstrap nodes, runs the action.</summary>
    private static async Task<int> RunAsync(
        ParseResult parse,
        Option<string[]> bootstrapOption,
        Option<LogLevel> logLevel,
        Func<NodeServices, CommandOutput, CancellationToken, Task<int>> action,
        CancellationToken cancellationToken)
    {
        var output = new CommandOutput(parse);
        if (!CommonOptions.TryParseAddresses(parse.GetValue(bootstrapOption)!, out var bootstraps, out var error))
        {
            return output.Fail(error);
        }

        if (bootstraps.Count == 0)
        {
            return output.Fail("give at least one --bootstrap node");
        }

        using var loggerFactory = CommonOptions.CreateLoggerFactory(parse.GetValue(logLevel));
        await using var node = await NodeServices.StartAsync(PrivateKey.Generate(KeyType.Ed25519), [], enablePerf: false, loggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            if (await ConnectAsync(node, bootstraps, loggerFactory.CreateLogger("toolnet.pubsub"), cancellationToken).ConfigureAwait(false) is { } failure)
            {
                return output.Fail(failure);
            }

            return await action(node, output, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // SIGINT/SIGTERM: `sub` runs until then; the conventional exit code of an interrupted command.
            return output.Fail("interrupted", 130);
        }
    }
}
