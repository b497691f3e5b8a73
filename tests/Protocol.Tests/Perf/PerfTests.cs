using System.Buffers.Binary;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Perf;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Perf;

public class PerfSessionTests
{
    private const ulong SixteenMebibytes = 16 * 1024 * 1024;

    [Theory]
    [InlineData(SixteenMebibytes, SixteenMebibytes)]
    [InlineData(0UL, 0UL)]
    [InlineData(SixteenMebibytes + 3, 0UL)]
    [InlineData(0UL, SixteenMebibytes - 5)]
    [InlineData(1UL, 1UL)]
    public async Task Uploads_and_downloads_exactly_the_bytes_asked_for(ulong upload, ulong download)
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var serving = ServeThenCloseAsync(server);
        var result = await PerfSession.PerfAsync(client, upload, download);
        Assert.Equal(upload, result.UploadBytes);
        Assert.Equal(download, result.DownloadBytes);
        Assert.Equal(result.Total, result.UploadTime + result.DownloadTime);
        Assert.Equal((upload, download), await serving);
    }

    [Fact]
    public async Task The_request_is_a_big_endian_u64_even_when_it_arrives_byte_by_byte()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var serving = ServeThenCloseAsync(server);
        foreach (var b in new byte[] { 0, 0, 0, 0, 0, 1, 0x00, 0x07 })
        {
            await client.Output.WriteAsync(new[] { b });
        }

        await client.Output.WriteAsync(new byte[5]);
        await client.CloseWriteAsync();
        Assert.Equal(0x1_0007UL, (ulong)(await client.ReadToEndAsync()).Length);
        Assert.Equal((5UL, 0x1_0007UL), await serving);
    }

    [Fact]
    public async Task A_stream_that_ends_before_the_request_is_malformed()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        await client.Output.WriteAsync(new byte[7]);
        await client.CloseWriteAsync();
        await Assert.ThrowsAnyAsync<WireFormatException>(async () => await PerfSession.ServeAsync(server));
    }

    [Fact]
    public async Task A_server_that_sends_too_little_fails_the_run()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var answering = Task.Run(async () =>
        {
            await server.ReadToEndAsync();
            await server.Output.WriteAsync(new byte[99]);
            await server.CloseWriteAsync();
        });
        var exception = await Assert.ThrowsAsync<IOException>(async () => await PerfSession.PerfAsync(client, 10, 100));
        Assert.Contains("99", exception.Message, StringComparison.Ordinal);
        await answering;
    }

    [Fact]
    public async Task A_server_reset_mid_download_fails_the_run_cleanly()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var answering = Task.Run(async () =>
        {
            await server.ReadToEndAsync();
            await server.Output.WriteAsync(new byte[100_000]);
            server.Reset();
        });
        await Assert.ThrowsAsync<StreamResetException>(async () => await PerfSession.PerfAsync(client, 10, SixteenMebibytes));
        await answering;
    }

    [Fact]
    public async Task A_client_reset_mid_upload_ends_the_server_cleanly()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var serving = PerfSession.ServeAsync(server).AsTask();
        await client.Output.WriteAsync(new byte[8 + 100_000]);
        client.Reset();
        await Assert.ThrowsAsync<StreamResetException>(() => serving);
    }

    [Fact]
    public async Task A_client_that_stops_a_endless_download_ends_the_server_cleanly()
    {
        var (client, server) = InMemoryStream.CreatePair(PerfService.ProtocolId);
        var serving = PerfSession.ServeAsync(server).AsTask();
        var request = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(request, ulong.MaxValue);
        await client.Output.WriteAsync(request);
        await client.CloseWriteAsync();
        var read = await client.Input.ReadAtLeastAsync(1024 * 1024);
        client.Input.AdvanceTo(read.Buffer.End);
        client.Reset();
        await Assert.ThrowsAnyAsync<IOException>(() => serving);
    }

    private static async Task<(ulong, ulong)> ServeThenCloseAsync(InMemoryStream server)
    {
        var served = await PerfSession.ServeAsync(server);
        await server.CloseWriteAsync();
        return served;
    }
}

public sealed class PerfServiceTests : TwoHostsTest
{
    public PerfServiceTests()
    {
        Own(new PerfService(B));
    }

    [Fact]
    public async Task Runs_through_the_host()
    {
        var result = await PerfService.PerfAsync(AToB, 16 * 1024 * 1024, 16 * 1024 * 1024);
        Assert.Equal(16UL * 1024 * 1024, result.UploadBytes);
        Assert.Equal(16UL * 1024 * 1024, result.DownloadBytes);
        Assert.True(result.UploadBytesPerSecond > 0);
        Assert.True(result.DownloadBytesPerSecond > 0);
    }

    [Fact]
    public void The_server_is_off_limited_connections()
    {
        Assert.False(B.HandlerOptions(PerfService.ProtocolId)!.RunOnLimitedConnection);
        Assert.Null(A.HandlerOptions(PerfService.ProtocolId));
    }
}
