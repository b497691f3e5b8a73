using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Pnet;

namespace ToolNet.Interop.Tests;

/// <summary>libp2p private networks (pnet, PSK v1) against js-libp2p's <c>@libp2p/pnet</c>: the same key file on both
/// sides connects in either direction; another key fails on both sides.</summary>
public sealed class JsPrivateNetworkTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly string _folder = Directory.CreateTempSubdirectory("toolnet-pnet-").FullName;

    [Fact]
    public async Task With_the_same_key_file_csharp_and_js_connect_both_ways_and_echo()
    {
        var key = PreSharedKey.Generate();
        await using var js = await JsPeer.StartAsync("--psk-file", WriteKeyFile("shared.key", key));
        await using var host = await StartHostAsync(key);

        var connection = await host.ConnectAsync(Multiaddr.Parse(js.TcpAddress)).AsTask().WaitAsync(Patience);
        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());
        var payload = new byte[100_000];
        Random.Shared.NextBytes(payload);
        Assert.Equal(payload, await EchoService.EchoAsync(connection, payload).WaitAsync(Patience));
        await connection.CloseAsync();

        var address = host.ListenAddresses[0].WithPeerId(host.PeerId).ToString();
        var data = Convert.ToBase64String(Encoding.UTF8.GetBytes("hello inside the private network"));
        var echo = await js.CommandAsync("echo", new { addr = address, dataBase64 = data }, Patience);
        Assert.Equal(data, echo["dataBase64"]!.GetValue<string>());
        Assert.Empty(js.Errors);
    }

    [Fact]
    public async Task With_another_key_neither_side_gets_a_connection()
    {
        await using var js = await JsPeer.StartAsync("--psk-file", WriteKeyFile("theirs.key", PreSharedKey.Generate()));
        await using var host = await StartHostAsync(PreSharedKey.Generate());

        var ours = await Assert.ThrowsAsync<DialException>(async () => await host.ConnectAsync(Multiaddr.Parse(js.TcpAddress)).AsTask().WaitAsync(Patience));
        Assert.Contains(ours.Attempts, attempt => attempt.Error is PrivateNetworkMismatchException);

        var address = host.ListenAddresses[0].WithPeerId(host.PeerId).ToString();
        await Assert.ThrowsAsync<JsPeerException>(() => js.CommandAsync("dial", new { addr = address }, Patience));
        Assert.Empty(host.GetConnections());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string WriteKeyFile(string name, PreSharedKey key)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, key.ToFileText());
        return path;
    }

    private static Task<Libp2pHost> StartHostAsync(PreSharedKey key) => JsHostSmokeTests.StartHostAsync(new PrivateNetworkProtector(key));
}
