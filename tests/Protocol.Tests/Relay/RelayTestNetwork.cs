using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Relay;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Relay;

/// <summary>A host over TCP on 127.0.0.1 with the relay transport attached (listening on <c>/p2p-circuit</c> too
/// when asked), echo that runs on limited connections, and optionally a relay service.</summary>
internal sealed class RelayTestPeer : IAsyncDisposable
{
    private readonly EchoService _echo;

    private RelayTestPeer(Libp2pHost host, PrivateKey identity, CircuitRelayTransport transport, EchoService echo)
    {
        Host = host;
        Identity = identity;
        Transport = transport;
        _echo = echo;
    }

    public Libp2pHost Host { get; }

    public PrivateKey Identity { get; }

    public CircuitRelayTransport Transport { get; }

    public RelayService? Relay { get; private set; }

    public Multiaddr DialAddress => Host.ListenAddresses.First(a => !a.IsRelayed).WithPeerId(Host.PeerId);

    public static async Task<RelayTestPeer> StartAsync(bool listenOnCircuits = true, RelayServiceOptions? relayOptions = null, bool relay = false, TimeProvider? timeProvider = null)
    {
        var identity = PrivateKey.Generate(KeyType.Ed25519);
        var transport = new CircuitRelayTransport(timeProvider: timeProvider);
        var host = new Libp2pHost(new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport(), transport],
            Security = [new NoiseSecurity(identity, [YamuxMuxer.Id], NullLogger.Instance)],
            Muxers = [new YamuxMuxer()],
            ListenAddresses = listenOnCircuits
                ? [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), CircuitRelayTransport.ListenAddress]
                : [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
            TimeProvider = timeProvider ?? TimeProvider.System,
        });
        transport.Attach(host);
        await host.StartAsync();
        var echo = new EchoService(host, new StreamHandlerOptions { RunOnLimitedConnection = true });
        var peer = new RelayTestPeer(host, identity, transport, echo);
        if (relay || relayOptions is not null)
        {
            peer.Relay = new RelayService(host, identity, relayOptions, timeProvider);
        }

        return peer;
    }

    /// <summary>Our address through <paramref name="relay"/>: <c>…/p2p/RELAY/p2p-circuit/p2p/US</c>.</summary>
    public Multiaddr CircuitAddressVia(RelayTestPeer relay) =>
        relay.DialAddress.Encapsulate(CircuitRelayTransport.ListenAddress).WithPeerId(Host.PeerId);

    /// <summary>Connects to <paramref name="relay"/> and reserves there.</summary>
    public async Task<RelayReservationInfo> ReserveOnAsync(RelayTestPeer relay)
    {
        var connection = await Host.ConnectAsync(relay.DialAddress);
        return await Transport.ReserveAsync(connection);
    }

    public async ValueTask DisposeAsync()
    {
        if (Relay is not null)
        {
            await Relay.DisposeAsync();
        }

        _echo.Dispose();
        await Host.DisposeAsync();
    }
}
