using System.CommandLine;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;

namespace ToolNet.Node.Cli;

/// <summary><c>toolnet node</c>: runs a node until SIGINT or SIGTERM.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var listen = new Option<string[]>("--listen")
        {
            Description = "Multiaddr to listen on (repeatable), e.g. /ip4/0.0.0.0/tcp/4001 or /ip4/0.0.0.0/tcp/4002/ws",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["/ip4/127.0.0.1/tcp/4001", "/ip4/127.0.0.1/tcp/4002/ws"],
        };
        var perf = new Option<bool>("--perf")
        {
            Description = "Serve /perf/1.0.0 (lets any peer make us send data; off on public nodes)",
            DefaultValueFactory = _ => true,
        };
        var key = CommonOptions.KeyFile();
        var data = CommonOptions.DataDirectory();
        var bootstrap = PubSubCommands.Bootstrap();
        var topics = PubSubCommands.Topics();
        var logLevel = CommonOptions.LogLevel(LogLevel.Information);
        var command = new Command("node", "Run a node: listen, serve identify, ping, echo, pubsub and perf until SIGINT/SIGTERM")
        {
            listen, perf, bootstrap, topics, key, data, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            IReadOnlyList<Multiaddr> bootstraps = [];
            if (!CommonOptions.TryParseAddresses(parse.GetValue(listen)!, out var addresses, out var error)
                || !CommonOptions.TryParseAddresses(parse.GetValue(bootstrap)!, out bootstraps, out error))
            {
                return output.Fail(error);
            }

            PrivateKey identity;
            try
            {
                identity = await IdentityFile.LoadOrCreateAsync(CommonOptions.ResolveKeyPath(parse.GetValue(key), parse.GetValue(data)), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (IdentityFileException e)
            {
                return output.Fail(e.Message);
            }

            using var loggerFactory = CommonOptions.CreateLoggerFactory(parse.GetValue(logLevel));
            NodeServices node;
            try
            {
                node = await NodeServices.StartAsync(identity, addresses, parse.GetValue(perf), loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or NotSupportedException)
            {
                return output.Fail($"cannot listen: {e.Message}");
            }

            await using (node.ConfigureAwait(false))
            {
                // Joined topics are relayed for other peers (GossipSub forwards only the topics a node has joined). The
                // node does not read them itself: each subscription keeps its newest messages (bounded) until the end.
                using var subscriptions = new CompositeDisposable(parse.GetValue(topics)!.Select(topic => node.PubSub.Subscribe(topic)));
                if (await PubSubCommands.ConnectAsync(node, bootstraps, loggerFactory.CreateLogger("toolnet.node"), cancellationToken).ConfigureAwait(false) is { } failure)
                {
                    return output.Fail(failure);
                }

                var dialable = node.DialableAddresses.Select(a => a.ToString()).ToArray();
                output.Write(
                    new { peerId = node.Host.PeerId.ToString(), addrs = dialable },
                    $"toolnet node {node.Host.PeerId}\n" + string.Join('\n', dialable.Select(a => "  listening on " + a)));
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return 0;
        });
        return command;
    }
}

/// <summary>Disposes a set of disposables together.</summary>
internal sealed class CompositeDisposable(IEnumerable<IDisposable> items) : IDisposable
{
    private readonly List<IDisposable> _items = [.. items];

    public void Dispose() => _items.ForEach(item => item.Dispose());
}
