using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.WebSocket;

namespace ToolNet.Protocol.Tests.WebSocket;

public class WebSocketTransportListenerTests
{
    // Regression: stopping cancelled the accept under way, and the handshake slot taken for it was never returned,
    // so DisposeAsync (which waits for every slot) never completed: every host with a /ws listener hung on shutdown.
    [Fact]
    public async Task An_idle_listener_disposes()
    {
        var listener = await new WebSocketTransport().ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"));

        await listener.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_listener_disposes_after_accepting_a_connection()
    {
        var transport = new WebSocketTransport();
        var listener = await transport.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws"));
        var dialling = transport.DialAsync(listener.ListenAddress, new TransportDialOptions { Timeout = TimeSpan.FromSeconds(30) }).AsTask();
        var accepted = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        var dialled = await dialling.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotNull(accepted);

        await listener.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        accepted.Abort();
        dialled.Abort();
        await accepted.DisposeAsync();
        await dialled.DisposeAsync();
    }
}
