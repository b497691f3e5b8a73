using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Memory;
using ToolNet.Protocol.Plaintext;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Host;

/// <summary>Real hosts for tests: TCP on 127.0.0.1, Noise, Yamux; or on a <see cref="MemoryNetwork"/>.</summary>
internal static class TestHosts
{
    public static async Task<Libp2pHost> StartAsync(Func<HostOptions, HostOptions>? configure = null, PrivateKey? identity = null)
    {
        identity ??= PrivateKey.Generate(KeyType.Ed25519);
        var options = new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport()],
            Security = [new NoiseSecurity(identity, [YamuxMuxer.Id], NullLogger.Instance)],
            Muxers = [new YamuxMuxer()],
            ListenAddresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
        };
        var host = new Libp2pHost(configure is null ? options : configure(options));
        await host.StartAsync();
        return host;
    }

    public static Multiaddr DialAddress(Libp2pHost host) => host.ListenAddresses[0].WithPeerId(host.PeerId);

    /// <summary>A host listening on its own <c>/memory/N</c> of <paramref name="network"/>, with Yamux and plaintext
    /// (the default, for speed) or Noise.</summary>
    public static async Task<Libp2pHost> StartOnMemoryAsync(MemoryNetwork network, bool plaintext = true, Func<HostOptions, HostOptions>? configure = null)
    {
        var identity = PrivateKey.Generate(KeyType.Ed25519);
        ISecurityProtocol security = plaintext ? new PlaintextSecurity(identity) : new NoiseSecurity(identity, [YamuxMuxer.Id], NullLogger.Instance);
        var options = new HostOptions
        {
            Identity = identity,
            Transports = [network.CreateTransport()],
            Security = [security],
            Muxers = [new YamuxMuxer()],
            ListenAddresses = [Multiaddr.Parse("/memory/0")],
        };
        var host = new Libp2pHost(configure is null ? options : configure(options));
        await host.StartAsync();
        return host;
    }
}
