using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Relay;
using ToolNet.Protocol.Host;

namespace ToolNet.Node.Cli;

/// <summary>What a node serves besides identify, ping, echo and perf.</summary>
internal enum NodeRole
{
    /// <summary>An ordinary peer.</summary>
    Peer,

    /// <summary>Also a circuit relay v2 (hop) for others.</summary>
    Relay,
}

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
        var role = new Option<NodeRole>("--role")
        {
            Description = "What the node serves besides the basics: 'relay' serves circuit relay v2 (for public nodes)",
            DefaultValueFactory = _ => NodeRole.Peer,
        };
        var relays = new Option<string[]>("--relay")
        {
            Description = "A relay to hold a reservation on (repeatable), ending in /p2p/<peer id>; the node is then reachable through it",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [],
        };
        var peers = new Option<string[]>("--peer")
        {
            Description = "A peer to stay connected to (repeatable), ending in /p2p/<peer id>; re-dialled when the connection is lost",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [],
        };
        var circuitBytes = new Option<string>("--relay-circuit-bytes")
        {
            Description = "With --role relay: bytes a relayed connection may carry each way, e.g. 128KiB; 0 for no limit",
            DefaultValueFactory = _ => "128KiB",
        };
        var circuitSeconds = new Option<uint>("--relay-circuit-seconds")
        {
            Description = "With --role relay: seconds a relayed connection may last; 0 for no limit",
            DefaultValueFactory = _ => 120,
        };
        var trusted = new Option<string[]>("--trusted-network")
        {
            Description = "CIDR network exempt from the per-address connection limits (repeatable), e.g. 127.0.0.0/8 for local benchmarks",
            AllowMultipleArgumentsPerToken = true,
        };
        var key = CommonOptions.KeyFile();
        var data = CommonOptions.DataDirectory();
        var bootstrap = PubSubCommands.Bootstrap();
        var topics = PubSubCommands.Topics();
        var logLevel = CommonOptions.LogLevel(LogLevel.Information);
        var command = new Command("node", "Run a node: listen, serve identify, ping, echo, pubsub and perf until SIGINT/SIGTERM")
        {
            listen, perf, role, relays, peers, circuitBytes, circuitSeconds, trusted, bootstrap, topics, key, data, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            if (!CommonOptions.TryParseAddresses(parse.GetValue(listen)!, out var addresses, out var error)
                || !CommonOptions.TryParseAddresses(parse.GetValue(relays)!, out var relayAddresses, out error)
                || !CommonOptions.TryParseAddresses(parse.GetValue(peers)!, out var peerAddresses, out error)
                || !CommonOptions.TryParseAddresses(parse.GetValue(bootstrap)!, out var bootstraps, out error))
            {
                return output.Fail(error);
            }

            if (relayAddresses.Concat(peerAddresses).FirstOrDefault(a => !a.TryGetPeerId(out _)) is { } anonymous)
            {
                return output.Fail($"'{anonymous}' does not end in /p2p/<peer id>");
            }

            if (!ByteSize.TryParse(parse.GetValue(circuitBytes)!, out var circuitData))
            {
                return output.Fail($"'{parse.GetValue(circuitBytes)}' is not a byte count");
            }

            var nat = new NatTraversalSettings
            {
                ServeRelay = parse.GetValue(role) == NodeRole.Relay,
                RelayService = RelayServiceOptions.Default with { CircuitData = circuitData, CircuitDuration = TimeSpan.FromSeconds(parse.GetValue(circuitSeconds)) },
                Relays = relayAddresses,
                Peers = peerAddresses,
            };

            var trustedNetworks = new List<IPNetwork>();
            foreach (var text in parse.GetValue(trusted) ?? [])
            {
                if (!IPNetwork.TryParse(text, out var network))
                {
                    return output.Fail($"'{text}' is not a CIDR network");
                }

                trustedNetworks.Add(network);
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
                node = await NodeServices.StartAsync(identity, addresses, parse.GetValue(perf), nat, AddressLimits.Default with { ExemptNetworks = trustedNetworks }, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or NotSupportedException)
            {
                return output.Fail($"cannot listen: {e.Message}");
            }

            await using (node.ConfigureAwait(false))
            {
                // Subscribed before the ready line, so that no event after it is missed.
                using var events = node.Events.Subscribe();

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
                    await foreach (var nodeEvent in events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                    {
                        NodeEventOutput.Write(output, nodeEvent);
                    }
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
