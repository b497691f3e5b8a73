using System.Buffers;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Echo;

public class EchoSessionTests
{
    private static readonly byte[] OneMebibyte = RandomBytes(1024 * 1024);

    [Fact]
    public async Task One_mebibyte_is_echoed_exactly()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var serving = Task.Run(async () =>
        {
            var echoed = await EchoSession.ServeAsync(server);
            await server.CloseWriteAsync();
            return echoed;
        });
        var echo = await EchoSession.EchoAsync(client, OneMebibyte);
        Assert.Equal(OneMebibyte, echo);
        Assert.Equal(OneMebibyte.Length, await serving);
    }

    [Fact]
    public async Task Nothing_is_echoed_as_nothing()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var serving = ServeThenCloseAsync(server);
        Assert.Empty(await EchoSession.EchoAsync(client, ReadOnlyMemory<byte>.Empty));
        await serving;
    }

    [Fact]
    public async Task The_server_holds_back_a_client_that_does_not_read()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var serving = ServeThenCloseAsync(server);
        var writing = client.Output.WriteAsync(OneMebibyte).AsTask();

        // Without backpressure the server would buffer the whole echo and the client's flush would complete.
        await Task.Delay(200);
        Assert.False(writing.IsCompleted);

        var reading = client.ReadToEndAsync();
        await writing;
        await client.CloseWriteAsync();
        Assert.Equal(OneMebibyte, await reading);
        await serving;
    }

    [Fact]
    public async Task A_short_echo_fails()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var answering = Task.Run(async () =>
        {
            var read = await server.Input.ReadAtLeastAsync(10);
            await server.Output.WriteAsync(read.Buffer.Slice(0, 10).ToArray());
            server.Input.AdvanceTo(read.Buffer.End);
            await server.CloseWriteAsync();
        });
        var exception = await Assert.ThrowsAsync<IOException>(async () => await EchoSession.EchoAsync(client, new byte[100]));
        Assert.Contains("10 of 100", exception.Message, StringComparison.Ordinal);
        await answering;
    }

    [Fact]
    public async Task A_long_echo_fails_without_waiting_for_the_rest()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        await server.Output.WriteAsync(new byte[101]);
        var exception = await Assert.ThrowsAsync<IOException>(async () => await EchoSession.EchoAsync(client, new byte[100]));
        Assert.Contains("more than", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_reset_mid_transfer_fails_cleanly()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var answering = Task.Run(async () =>
        {
            var read = await server.Input.ReadAtLeastAsync(100_000);
            server.Input.AdvanceTo(read.Buffer.End);
            server.Reset();
        });
        await Assert.ThrowsAsync<StreamResetException>(async () => await EchoSession.EchoAsync(client, OneMebibyte));
        await answering;
    }

    [Fact]
    public async Task A_client_reset_mid_transfer_ends_the_server_cleanly()
    {
        var (client, server) = InMemoryStream.CreatePair(EchoService.ProtocolId);
        var serving = EchoSession.ServeAsync(server).AsTask();
        await client.Output.WriteAsync(new byte[1000]);
        client.Reset();
        await Assert.ThrowsAsync<StreamResetException>(() => serving);
    }

    private static async Task ServeThenCloseAsync(InMemoryStream server)
    {
        await EchoSession.ServeAsync(server);
        await server.CloseWriteAsync();
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        return bytes;
    }
}

public sealed class EchoServiceTests : TwoHostsTest
{
    private readonly EchoService _echoB;

    public EchoServiceTests()
    {
        _echoB = Own(new EchoService(B));
    }

    [Fact]
    public async Task Echoes_through_the_host()
    {
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 31)).ToArray();
        Assert.Equal(data, await EchoService.EchoAsync(AToB, data));
        Assert.Equal([EchoService.ProtocolId], B.Protocols);
    }

    [Fact]
    public async Task Dispose_removes_the_handler()
    {
        _echoB.Dispose();
        await Assert.ThrowsAsync<ToolNet.Protocol.Multistream.ProtocolNegotiationException>(() => EchoService.EchoAsync(AToB, new byte[1]));
    }
}
