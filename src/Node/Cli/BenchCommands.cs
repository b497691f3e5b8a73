using System.CommandLine;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Node.Cli;

/// <summary>Hidden developer commands for tests/Benchmarks/wire.sh: <c>toolnet bench idle-connections</c>.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var command = new Command("bench", "Developer benchmarks (used by tests/Benchmarks/wire.sh)") { Hidden = true };
        command.Subcommands.Add(IdleConnections());
        return command;
    }

    /// <summary>
    /// Opens <c>--count</c> secure connections (TCP + Noise + Yamux) to one node, each as a distinct peer (a fresh
    /// Ed25519 identity per connection: a node admits only a few connections per peer), prints one JSON line when all
    /// are open, holds them idle until SIGINT/SIGTERM or <c>--hold</c> passes, then closes them. Inbound streams (the
    /// node's identify) are refused with <c>na</c>. Dials leave from <c>--source</c> addresses in turn, so that more
    /// connections fit than one source address has ephemeral ports.
    /// </summary>
    private static Command IdleConnections()
    {
        var address = new Argument<string>("address") { Description = "The node's multiaddr, ending in /p2p/<peer id>" };
        var count = new Option<int>("--count") { Description = "Connections to open", DefaultValueFactory = _ => 1000 };
        var parallel = new Option<int>("--parallel") { Description = "Handshakes in flight at once", DefaultValueFactory = _ => 16 };
        var sources = new Option<string[]>("--source")
        {
            Description = "Local IPv4 addresses to dial from, in turn (e.g. 127.0.0.2 127.0.0.3); default: the kernel's choice",
            AllowMultipleArgumentsPerToken = true,
        };
        var hold = new Option<int>("--hold") { Description = "Seconds to hold the connections at most", DefaultValueFactory = _ => 60 };
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("idle-connections", "Open N idle secure connections to a node and hold them")
        {
            address, count, parallel, sources, hold, logLevel,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CommandOutput(parse);
            if (!Multiaddr.TryParse(parse.GetValue(address), out var target) || !target.TryGetPeerId(out var peer))
            {
                return output.Fail($"'{parse.GetValue(address)}' is not a multiaddr ending in /p2p/<peer id>");
            }

            var localAddresses = new List<Multiaddr?>();
            foreach (var source in parse.GetValue(sources) ?? [])
            {
                if (!Multiaddr.TryParse($"/ip4/{source}/tcp/0", out var local))
                {
                    return output.Fail($"'{source}' is not an IPv4 address");
                }

                localAddresses.Add(local);
            }

            if (localAddresses.Count == 0)
            {
                localAddresses.Add(null);
            }

            using var loggerFactory = CommonOptions.CreateLoggerFactory(parse.GetValue(logLevel));
            var client = new IdleConnectionClient(target, peer, localAddresses, loggerFactory);
            var n = parse.GetValue(count);
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await client.OpenAsync(n, Math.Max(1, parse.GetValue(parallel)), cancellationToken).ConfigureAwait(false);
                output.Write(
                    new { connections = n, seconds = started.Elapsed.TotalSeconds },
                    $"{n} idle connections open after {started.Elapsed.TotalSeconds:F1} s");
                Console.Out.Flush();
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(hold)), cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                return 0;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or ProtocolNegotiationException or WireFormatException)
            {
                return output.Fail($"after {client.OpenCount} connections: {e.Message}");
            }
            finally
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
        });
        return command;
    }

    /// <summary>The connections of <c>bench idle-connections</c>, built from the protocol pieces without a host.</summary>
    private sealed class IdleConnectionClient(Multiaddr target, PeerId peer, IReadOnlyList<Multiaddr?> localAddresses, ILoggerFactory loggerFactory) : IAsyncDisposable
    {
        private readonly TcpTransport _tcp = new();
        private readonly YamuxMuxer _yamux = new();
        private readonly ILogger _logger = loggerFactory.CreateLogger("bench");
        private readonly List<YamuxSession> _sessions = [];
        private readonly Lock _sync = new();
        private int _next;

        public int OpenCount
        {
            get
            {
                lock (_sync)
                {
                    return _sessions.Count;
                }
            }
        }

        public async Task OpenAsync(int count, int parallel, CancellationToken cancellationToken)
        {
            var workers = Enumerable.Range(0, parallel).Select(async _ =>
            {
                int index;
                while ((index = Interlocked.Increment(ref _next)) <= count)
                {
                    var session = await OpenOneAsync(localAddresses[index % localAddresses.Count], cancellationToken).ConfigureAwait(false);
                    lock (_sync)
                    {
                        _sessions.Add(session);
                    }
                }
            });
            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            YamuxSession[] sessions;
            lock (_sync)
            {
                sessions = [.. _sessions];
                _sessions.Clear();
            }

            foreach (var session in sessions)
            {
                await session.CloseAsync().ConfigureAwait(false);
            }
        }

        private async Task<YamuxSession> OpenOneAsync(Multiaddr? localAddress, CancellationToken cancellationToken)
        {
            // A distinct peer per connection, as 10,000 different peers would be.
            using var noise = new NoiseSecurity(PrivateKey.Generate(KeyType.Ed25519), [YamuxMuxer.Id], _logger);
            var raw = await _tcp.DialAsync(target, new TransportDialOptions { LocalAddress = localAddress }, cancellationToken).ConfigureAwait(false);
            try
            {
                await MultistreamSelect.SelectAsync(raw, [noise.ProtocolId], cancellationToken).ConfigureAwait(false);
                var secured = await noise.SecureOutboundAsync(raw, peer, cancellationToken).ConfigureAwait(false);
                if (secured.EarlyMuxer is null)
                {
                    await MultistreamSelect.SelectAsync(secured.Pipe, [YamuxMuxer.Id], cancellationToken).ConfigureAwait(false);
                }

                var session = _yamux.Start(secured.Pipe, Direction.Outbound, _logger);
                _ = RefuseInboundStreamsAsync(session);
                return session;
            }
            catch
            {
                raw.Abort();
                throw;
            }
        }

        private static async Task RefuseInboundStreamsAsync(YamuxSession session)
        {
            while (await session.AcceptYamuxStreamAsync().ConfigureAwait(false) is { } stream)
            {
                await using (stream.ConfigureAwait(false))
                {
                    try
                    {
                        await MultistreamSelect.HandleAsync(stream, Array.Empty<string>()).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is ProtocolNegotiationException or IOException)
                    {
                        // The node gave up on the protocol it proposed (identify): expected.
                    }
                }
            }
        }
    }
}
