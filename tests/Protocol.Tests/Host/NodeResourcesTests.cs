using ToolNet.Protocol.Core;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Host;

/// <summary>The node-wide scope above each connection's yamux limits, and the muxer's refusals in the host's counters.</summary>
public class NodeResourcesTests
{
    private const string EchoProtocol = "/test/echo/1.0.0";
    private const long Window = YamuxOptions.SpecInitialWindowSize;

    private static async Task EchoAsync(IStream stream, CancellationToken cancellationToken)
    {
        await stream.Input.CopyToAsync(stream.Output, cancellationToken);
        await stream.Output.CompleteAsync();
    }

    [Fact]
    public async Task When_the_node_receive_memory_is_full_new_streams_are_refused_while_existing_ones_carry_on()
    {
        // Room for three initial windows on the whole node; the connections' own budgets (32 MiB) are far from full.
        await using var server = await TestHosts.StartAsync(o => o with { Limits = o.Limits with { MaxReceiveMemory = 3 * Window } });
        await using var first = await TestHosts.StartAsync();
        await using var second = await TestHosts.StartAsync();
        server.SetStreamHandler(EchoProtocol, EchoAsync);
        await first.ConnectAsync(TestHosts.DialAddress(server));
        await second.ConnectAsync(TestHosts.DialAddress(server));

        var open = new List<IStream>
        {
            await OpenEchoAsync(first, server),
            await OpenEchoAsync(first, server),
            await OpenEchoAsync(second, server),
        };
        Assert.Equal(3 * Window, server.ReservedReceiveMemory);

        // The fourth stream, on either connection, does not fit the node: refused at its SYN, counted as the node's.
        var refused = await Record.ExceptionAsync(async () => await EchoOnceAsync(await OpenEchoAsync(second, server)));
        Assert.NotNull(refused);
        await AddressAdmissionTests.WaitUntilAsync(() => server.Counters[Refusal.StreamMemoryLimit, ResourceScope.Node] == 1, "the refusal to be counted");

        // The streams already open are unaffected.
        foreach (var stream in open)
        {
            await EchoOnceAsync(stream);
        }

        // Their room comes back once they are gone, and a new stream fits again.
        await AddressAdmissionTests.WaitUntilAsync(() => server.ReservedReceiveMemory == 0 && server.StreamCount == 0, "the streams' memory to be given back");
        await EchoOnceAsync(await OpenEchoAsync(first, server));
        Assert.Equal(1, server.Counters[Refusal.StreamMemoryLimit]);
    }

    [Fact]
    public async Task The_node_stream_limit_refuses_streams_beyond_it_over_all_connections()
    {
        await using var server = await TestHosts.StartAsync(o => o with { Limits = o.Limits with { MaxStreams = 2 } });
        await using var first = await TestHosts.StartAsync();
        await using var second = await TestHosts.StartAsync();
        server.SetStreamHandler(EchoProtocol, EchoAsync);
        await first.ConnectAsync(TestHosts.DialAddress(server));
        await second.ConnectAsync(TestHosts.DialAddress(server));

        var a = await OpenEchoAsync(first, server);
        var b = await OpenEchoAsync(second, server);
        Assert.NotNull(await Record.ExceptionAsync(async () => await EchoOnceAsync(await OpenEchoAsync(first, server))));
        await AddressAdmissionTests.WaitUntilAsync(() => server.Counters[Refusal.StreamLimit, ResourceScope.Node] == 1, "the refusal to be counted");

        await EchoOnceAsync(a);
        await EchoOnceAsync(b);
        await AddressAdmissionTests.WaitUntilAsync(() => server.StreamCount == 0, "the streams to end");
        await EchoOnceAsync(await OpenEchoAsync(second, server));
    }

    [Fact]
    public async Task Yamux_refusals_are_counted_by_the_host_and_stay_counted_after_the_connection_closes()
    {
        var muxer = new YamuxMuxer(new YamuxOptions { MaxInboundStreams = 1, MaxConnectionReceiveBuffer = 4 * Window });
        await using var server = await TestHosts.StartAsync(o => o with { Muxers = [muxer] });
        await using var client = await TestHosts.StartAsync();
        server.SetStreamHandler(EchoProtocol, EchoAsync);
        var connection = await client.ConnectAsync(TestHosts.DialAddress(server));

        var held = await OpenEchoAsync(client, server);
        Assert.NotNull(await Record.ExceptionAsync(async () => await EchoOnceAsync(await OpenEchoAsync(client, server))));
        await AddressAdmissionTests.WaitUntilAsync(() => server.Counters[Refusal.StreamLimit, ResourceScope.Connection] == 1, "the refusal to be counted");

        await EchoOnceAsync(held);
        await connection.CloseAsync();
        await AddressAdmissionTests.WaitUntilAsync(() => server.GetConnections().Count == 0, "the connection to close");
        Assert.Equal(1, server.Counters[Refusal.StreamLimit, ResourceScope.Connection]);
        Assert.Equal(1, server.Counters.SnapshotByScope()[(Refusal.StreamLimit, ResourceScope.Connection)]);
        Assert.Equal(0, server.ReservedReceiveMemory);
    }

    private static async Task<IStream> OpenEchoAsync(Libp2pHost client, Libp2pHost server)
    {
        var stream = await client.NewStreamAsync(server.PeerId, [EchoProtocol]);

        // One byte through and back: the server has accepted the stream (and reserved its window) before we go on.
        await stream.Output.WriteAsync(new byte[] { 1 });
        var read = await stream.Input.ReadAtLeastAsync(1);
        if (read.Buffer.Length < 1)
        {
            throw new IOException("the stream ended before its echo");
        }

        stream.Input.AdvanceTo(read.Buffer.GetPosition(1));
        return stream;
    }

    /// <summary>Sends a last message, reads its echo to the end, and disposes the stream.</summary>
    private static async Task EchoOnceAsync(IStream stream)
    {
        await using (stream)
        {
            var payload = new byte[1000];
            Random.Shared.NextBytes(payload);
            await stream.Output.WriteAsync(payload);
            await stream.Output.CompleteAsync();
            Assert.Equal(payload, await stream.Input.ReadToEndAsync());
        }
    }
}
