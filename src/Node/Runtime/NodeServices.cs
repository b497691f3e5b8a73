using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Perf;
using ToolNet.Protocol.Ping;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.WebSocket;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Node.Runtime;

/// <summary>
/// A running libp2p host with ToolNet's protocol set: TCP and WebSocket, Noise, Yamux; identify (+ push),
/// ping, echo, and perf when enabled. The one composition root that `toolnet node` and the client commands share.
/// </summary>
internal sealed class NodeServices : IAsyncDisposable
{
    private readonly List<IDisposable> _services = [];
    private readonly NoiseSecurity _noise;

    private NodeServices(Libp2pHost host, NoiseSecurity noise, IdentifyService identify, PingService ping)
    {
        Host = host;
        _noise = noise;
        Identify = identify;
        Ping = ping;
    }

    /// <summary>Per-connection limits: 256 inbound streams, each stream's receive window at most 16 MiB.</summary>
    private static YamuxOptions MuxerOptions { get; } = new() { MaxInboundStreams = 256, MaxStreamWindowSize = 16 * 1024 * 1024 };

    public Libp2pHost Host { get; }

    public IdentifyService Identify { get; }

    public PingService Ping { get; }

    /// <summary>Builds and starts a node with the default limits by address. With no listen addresses it is a client
    /// only (dials, never accepts).</summary>
    public static Task<NodeServices> StartAsync(
        PrivateKey identity,
        IReadOnlyList<Multiaddr> listen,
        bool enablePerf,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken) =>
        StartAsync(identity, listen, enablePerf, AddressLimits.Default, loggerFactory, cancellationToken);

    /// <summary>Builds and starts a node; <paramref name="perAddress"/> bounds what one remote address or subnet may
    /// hold of it (<c>--trusted-network</c> exempts networks).</summary>
    public static async Task<NodeServices> StartAsync(
        PrivateKey identity,
        IReadOnlyList<Multiaddr> listen,
        bool enablePerf,
        AddressLimits perAddress,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        var noise = new NoiseSecurity(identity, [YamuxMuxer.Id], loggerFactory.CreateLogger<NoiseSecurity>());
        var options = new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport(), new WebSocketTransport()],
            Security = [noise],
            Muxers = [new YamuxMuxer(MuxerOptions)],
            ListenAddresses = listen,
            Limits = new ResourceLimits { PerAddress = perAddress },
        };
        var host = new Libp2pHost(options, loggerFactory);

        // Echo and perf are test services: a peer may use all the inbound streams a connection allows on them (the
        // interop suite runs 100 echo streams at once), not just a protocol's default share.
        var testServiceStreams = new StreamHandlerOptions { MaxInboundStreamsPerConnection = MuxerOptions.MaxInboundStreams };
        IdentifyService? identify = null;
        try
        {
            identify = new IdentifyService(host, identity, IdentifyOptions.Default, loggerFactory.CreateLogger<IdentifyService>());
            var node = new NodeServices(host, noise, identify, new PingService(host, logger: loggerFactory.CreateLogger<PingService>()));
            node._services.Add(new EchoService(host, testServiceStreams, loggerFactory.CreateLogger<EchoService>()));
            if (enablePerf)
            {
                // Perf lets a client make us send any number of bytes (perf.md "Security Considerations"): off unless asked for.
                node._services.Add(new PerfService(host, testServiceStreams, loggerFactory.CreateLogger<PerfService>()));
            }

            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            if (identify is not null)
            {
                await identify.DisposeAsync().ConfigureAwait(false);
            }

            await host.DisposeAsync().ConfigureAwait(false);
            noise.Dispose();
            throw;
        }
    }

    /// <summary>The addresses to give to other peers: each listen address with our peer id.</summary>
    public IReadOnlyList<Multiaddr> DialableAddresses => [.. Host.ListenAddresses.Select(a => a.WithPeerId(Host.PeerId))];

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services)
        {
            service.Dispose();
        }

        Ping.Dispose();
        await Identify.DisposeAsync().ConfigureAwait(false);
        await Host.DisposeAsync().ConfigureAwait(false);
        _noise.Dispose();
    }
}
