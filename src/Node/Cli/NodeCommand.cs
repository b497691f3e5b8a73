using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;

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
        var trusted = new Option<string[]>("--trusted-network")
        {
            Description = "CIDR network exempt from the per-address connection limits (repeatable), e.g. 127.0.0.0/8 for local benchmarks",
            AllowMultipleArgumentsPerToken = true,
        };
        var key = CommonOptions.KeyFile();
        var data = CommonOptions.DataDirectory();
        var logLevel = CommonOptions.LogLevel(LogLevel.Information);
        var command = new Command("node", "Run a node: listen, serve identify, ping, echo and perf until SIGINT/SIGTERM")
        {
            listen, perf, trusted, key, data, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            if (!CommonOptions.TryParseAddresses(parse.GetValue(listen)!, out var addresses, out var error))
            {
                return output.Fail(error);
            }

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
                node = await NodeServices.StartAsync(identity, addresses, parse.GetValue(perf), AddressLimits.Default with { ExemptNetworks = trustedNetworks }, loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or NotSupportedException)
            {
                return output.Fail($"cannot listen: {e.Message}");
            }

            await using (node.ConfigureAwait(false))
            {
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
