using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Pnet;
using ToolNet.Protocol.Tcp;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Interop.Tests;

public class JsHostSmokeTests
{
    /// <summary>A C# host on TCP 127.0.0.1 with Noise, Yamux and an echo handler, in <paramref name="privateNetwork"/>
    /// when given.</summary>
    internal static async Task<Libp2pHost> StartHostAsync(PrivateNetworkProtector? privateNetwork = null)
    {
        var identity = PrivateKey.Generate(KeyType.Ed25519);
        var host = new Libp2pHost(new HostOptions
        {
            Identity = identity,
            Transports = [new TcpTransport()],
            Security = [new NoiseSecurity(identity, [YamuxMuxer.Id], NullLogger.Instance)],
            Muxers = [new YamuxMuxer()],
            ListenAddresses = [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0")],
            PrivateNetwork = privateNetwork,
        });
        await host.StartAsync();
        host.SetStreamHandler("/echo/1.0.0", async (stream, ct) =>
        {
            await stream.Input.CopyToAsync(stream.Output, ct);
            await stream.Output.CompleteAsync();
        });
        return host;
    }

    [Fact]
    public async Task CSharp_dials_js_and_echoes_over_tcp()
    {
        await using var js = await JsPeer.StartAsync();
        await using var host = await StartHostAsync();

        var connection = await host.ConnectAsync(Multiaddr.Parse(js.TcpAddress));
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());
        await using var stream = await connection.NewStreamAsync(["/echo/1.0.0"]);
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);
        var echoed = ReadAllAsync(stream.Input);
        await stream.Output.WriteAsync(payload);
        await stream.Output.CompleteAsync();
        Assert.Equal(payload, await echoed.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Empty(js.Errors);
    }

    [Fact]
    public async Task Js_dials_csharp_and_echoes_over_tcp()
    {
        await using var js = await JsPeer.StartAsync();
        await using var host = await StartHostAsync();
        var address = host.ListenAddresses[0].WithPeerId(host.PeerId).ToString();
        var data = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("hello from js"));

        var dial = await js.CommandAsync("dial", new { addr = address });
        Assert.Equal(host.PeerId.ToString(), dial["remotePeer"]!.GetValue<string>());
        Assert.Equal("/yamux/1.0.0", dial["multiplexer"]!.GetValue<string>());
        var echo = await js.CommandAsync("echo", new { addr = address, dataBase64 = data });
        Assert.Equal(data, echo["dataBase64"]!.GetValue<string>());
        Assert.Empty(js.Errors);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                buffer.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return buffer.WrittenSpan.ToArray();
            }
        }
    }
}
