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
using ToolNet.Protocol.PubSub;
using ToolNet.Protocol.Relay;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.WebSocket;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Node.Runtime;

/// <summary>
/// A running libp2p host with ToolNet's protocol set: TCP, WebSocket and relayed circuits, Noise, Yamux; identify
/// (+ push), ping, echo, GossipSub, and perf when enabled; a relay service, reservations on relays and kept connections to peers
/// when asked. The one composition root that `toolnet node` and the client commands share.
/// </summary>
internal sealed class NodeServices : IAsyncDisposable
{
    private readonly List<IDisposable> _services = [];
    private readonly List<IAsyncDisposable> _asyncServices = [];
    private readonly NoiseSecurity _noise;

    private NodeServices(Libp2pHost host, NoiseSecurity noise, IdentifyService identify, PingService ping, CircuitRelayTransport relayTransport, NodeEvents events, PubSubService pubSub)
    {
        Host = host;
        _noise = noise;
        Identify = identify;
        Ping = ping;
        RelayTransport = relayTransport;
        Events = events;
        PubSub = pubSub;
    }

    /// <summary>Per-connection limits: 256 inbound streams, each stream's receive window at most 16 MiB.</summary>
    private static YamuxOptions MuxerOptions { get; } = new() { MaxInboundStreams = 256, MaxStreamWindowSize = 16 * 1024 * 1024 };

    public Libp2pHost Host { get; }

    public IdentifyService Identify { get; }

    public PingService Ping { get; }

    /// <summary>Dials and accepts relayed connections, and holds our reservations.</summary>
    public CircuitRelayTransport RelayTransport { get; }

    /// <summary>The relay we serve, with <see cref="NatTraversalSettings.ServeRelay"/>.</summary>
    public RelayService? Relay { get; private set; }

    /// <summary>Our reservations on relays, with <see cref="NatTraversalSettings.Relays"/>.</summary>
    public RelayReservationManager? Reservations { get; private set; }

    /// <summary>What happens to the node: reservations, connections, reachability.</summary>
    public NodeEvents Events { get; }

    /// <summary>GossipSub (with floodsub for peers that only speak that).</summary>
    public PubSubService PubSub { get; }

    /// <summary>Builds and starts a plain node with the default limits by address. With no listen addresses it is a
    /// client only (dials, never accepts).</summary>
    public static Task<NodeServices> StartAsync(
        PrivateKey identity,
        IReadOnlyList<Multiaddr> listen,
        bool enablePerf,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken) =>
        StartAsync(identity, listen, enablePerf, NatTraversalSettings.None, AddressLimits.Default, loggerFactory, cancellationToken);

    /// <summary>Builds and starts a node with relaying, reservations and peering as <paramref name="nat"/> says;
    /// <paramref name="perAddress"/> bounds what one remote address or subnet may hold of it (<c>--trusted-network</c>
    /// exempts networks).</summary>
    public static async Task<NodeServices> StartAsync(
        PrivateKey identity,
        IReadOnlyList<Multiaddr> listen,
        bool enablePerf,
        NatTraversalSettings nat,
        AddressLimits perAddress,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(nat);
        var noise = new NoiseSecurity(identity, [YamuxMuxer.Id], loggerFactory.CreateLogger<NoiseSecurity>());
        var relayTransport = new CircuitRelayTransport(logger: loggerFactory.CreateLogger<CircuitRelayTransport>());
        var options = new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport(), new WebSocketTransport(), relayTransport],
            Security = [noise],
            Muxers = [new YamuxMuxer(MuxerOptions)],

            // A node with relays accepts the circuits they bring.
            ListenAddresses = nat.Relays.Count > 0 ? [.. listen, CircuitRelayTransport.ListenAddress] : listen,
            Limits = new ResourceLimits { PerAddress = perAddress },
        };
        var host = new Libp2pHost(options, loggerFactory);
        relayTransport.Attach(host);

        // Echo and perf are test services: a peer may use all the inbound streams a connection allows on them (the
        // interop suite runs 100 echo streams at once), not just a protocol's default share. Echo also runs on relayed
        // connections, so that a circuit can be checked end to end.
        var testServiceStreams = new StreamHandlerOptions { MaxInboundStreamsPerConnection = MuxerOptions.MaxInboundStreams };
        var events = new NodeEvents();
        IdentifyService? identify = null;
        PubSubService? pubSub = null;
        NodeServices? node = null;
        try
        {
            RelayReservationManager? reservations = null;
            var identifyOptions = IdentifyOptions.Default with
            {
                AdvertisedAddresses = () => [.. host.ListenAddresses.Where(a => !a.IsRelayed), .. reservations?.Addresses ?? []],
            };
            identify = new IdentifyService(host, identity, identifyOptions, loggerFactory.CreateLogger<IdentifyService>());
            pubSub = new PubSubService(host, identity, PubSubOptions.Default, loggerFactory.CreateLogger<PubSubService>());
            node = new NodeServices(host, noise, identify, new PingService(host, logger: loggerFactory.CreateLogger<PingService>()), relayTransport, events, pubSub);
            node._asyncServices.Add(pubSub);
            node._services.Add(new EchoService(host, testServiceStreams with { RunOnLimitedConnection = true }, loggerFactory.CreateLogger<EchoService>()));
            if (enablePerf)
            {
                // Perf lets a client make us send any number of bytes (perf.md "Security Considerations"): off unless asked for.
                // It runs on relayed connections too, to measure a circuit (the relay's own limits still apply).
                node._services.Add(new PerfService(host, testServiceStreams with { RunOnLimitedConnection = true }, loggerFactory.CreateLogger<PerfService>()));
            }

            host.ConnectionOpened += (_, connection) => events.Publish(new ConnectionOpened(connection.RemotePeer, connection.RemoteAddress, connection.IsLimited));
            if (nat.ServeRelay)
            {
                node.Relay = new RelayService(host, identity, nat.RelayService, logger: loggerFactory.CreateLogger<RelayService>());
                node._asyncServices.Add(node.Relay);
            }

            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            if (nat.Relays.Count > 0)
            {
                reservations = new RelayReservationManager(host, relayTransport, new RelayReservationOptions { Relays = nat.Relays }, logger: loggerFactory.CreateLogger<RelayReservationManager>());
                reservations.ReservationChanged += (_, change) => node.OnReservationChanged(change);
                node.Reservations = reservations;
                node._asyncServices.Add(reservations);
                reservations.Start();
            }

            if (nat.Peers.Count > 0)
            {
                var peering = new PeeringService(host, nat.Peers, loggerFactory.CreateLogger<PeeringService>());
                node._asyncServices.Add(peering);
                peering.Start();
            }

            return node;
        }
        catch
        {
            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                if (pubSub is not null)
                {
                    await pubSub.DisposeAsync().ConfigureAwait(false);
                }

                if (identify is not null)
                {
                    await identify.DisposeAsync().ConfigureAwait(false);
                }

                await host.DisposeAsync().ConfigureAwait(false);
                noise.Dispose();
            }

            throw;
        }
    }

    /// <summary>The addresses to give to other peers: each direct listen address, and each address through a relay
    /// we hold a reservation on, with our peer id.</summary>
    public IReadOnlyList<Multiaddr> DialableAddresses =>
        [.. Host.ListenAddresses.Where(a => !a.IsRelayed).Concat(Reservations?.Addresses ?? []).Select(a => a.WithPeerId(Host.PeerId))];

    public async ValueTask DisposeAsync()
    {
        for (var i = _asyncServices.Count - 1; i >= 0; i--)
        {
            await _asyncServices[i].DisposeAsync().ConfigureAwait(false);
        }

        foreach (var service in _services)
        {
            service.Dispose();
        }

        Ping.Dispose();
        await Identify.DisposeAsync().ConfigureAwait(false);
        await Host.DisposeAsync().ConfigureAwait(false);
        _noise.Dispose();
    }

    /// <summary>Publishes a reservation change and tells connected peers our new addresses.</summary>
    private void OnReservationChanged(RelayReservationChange change)
    {
        Events.Publish(change.Reservation is { } held
            ? new ReservationMade(change.Relay, [.. held.Addresses.Select(a => a.WithPeerId(Host.PeerId))], held.Expires)
            : new ReservationLost(change.Relay, change.Reason ?? "lost"));
        _ = PushAddressesAsync();
    }

    private async Task PushAddressesAsync()
    {
        try
        {
            await Identify.PushIfChangedAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The node is stopping.
        }
    }
}

/// <summary>How a node takes part in NAT traversal.</summary>
internal sealed record NatTraversalSettings
{
    /// <summary>None of it: a plain node.</summary>
    public static NatTraversalSettings None { get; } = new();

    /// <summary>Serve circuit relay v2 hop (<c>--role relay</c>).</summary>
    public bool ServeRelay { get; init; }

    /// <summary>The relay's resources.</summary>
    public RelayServiceOptions RelayService { get; init; } = RelayServiceOptions.Default;

    /// <summary>Relays to hold reservations on (<c>--relay</c>), each ending in <c>/p2p/ID</c>.</summary>
    public IReadOnlyList<Multiaddr> Relays { get; init; } = [];

    /// <summary>Peers to stay connected to (<c>--peer</c>), each ending in <c>/p2p/ID</c>.</summary>
    public IReadOnlyList<Multiaddr> Peers { get; init; } = [];
}
