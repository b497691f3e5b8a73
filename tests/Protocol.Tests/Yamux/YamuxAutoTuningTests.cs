using System.Security.Cryptography;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;
using static ToolNet.Protocol.Tests.Yamux.YamuxTestHelpers;

namespace ToolNet.Protocol.Tests.Yamux;

public class YamuxAutoTuningTests
{
    [Fact]
    public async Task A_fast_reader_on_a_long_link_grows_its_receive_window()
    {
        // 10 ms each way: the initial 256 KiB window allows about 12.5 MB/s, far below what the reader can take,
        // so the window is the bottleneck and must grow (see YamuxReceiveWindow for the rule).
        using var cancel = new CancellationTokenSource();
        using var transports = TransportPair.WithLatency(TimeSpan.FromMilliseconds(10), cancel.Token);
        var client = Start(transports.Client, Direction.Outbound);
        var server = Start(transports.Server, Direction.Inbound);
        await WaitUntilAsync(() => server.RoundTripTime is not null, "the server has measured the RTT");

        var data = RandomBytes(8 * 1024 * 1024, seed: 11);
        var sender = await client.OpenStreamAsync().WithPatience();
        var write = WriteAllAsync(sender, data, chunkSize: 64 * 1024);
        var receiver = (YamuxStream)(await server.AcceptStreamAsync().WithPatience())!;
        var received = await ReadAllAsync(receiver).WithPatience();
        await write.WithPatience();

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.True(receiver.ReceiveWindowSize > YamuxOptions.SpecInitialWindowSize, $"window stayed at {receiver.ReceiveWindowSize}");
        Assert.True(receiver.ReceiveWindowSize <= server.Options.MaxStreamWindowSize);

        await client.CloseAsync();
        await server.CloseAsync();
        await cancel.CancelAsync();
    }

    [Fact]
    public async Task Without_auto_tuning_room_the_window_stays_put()
    {
        using var cancel = new CancellationTokenSource();
        using var transports = TransportPair.WithLatency(TimeSpan.FromMilliseconds(5), cancel.Token);
        var fixedWindow = Options with { MaxStreamWindowSize = YamuxOptions.SpecInitialWindowSize };
        var client = Start(transports.Client, Direction.Outbound, fixedWindow);
        var server = Start(transports.Server, Direction.Inbound, fixedWindow);
        await WaitUntilAsync(() => server.RoundTripTime is not null, "the server has measured the RTT");

        var data = RandomBytes(2 * 1024 * 1024, seed: 12);
        var sender = await client.OpenStreamAsync().WithPatience();
        var write = WriteAllAsync(sender, data);
        var receiver = (YamuxStream)(await server.AcceptStreamAsync().WithPatience())!;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await ReadAllAsync(receiver).WithPatience()));
        await write.WithPatience();
        Assert.Equal(YamuxOptions.SpecInitialWindowSize, receiver.ReceiveWindowSize);

        await client.CloseAsync();
        await server.CloseAsync();
        await cancel.CancelAsync();
    }
}
