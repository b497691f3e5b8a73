using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Memory;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Plaintext;
using ToolNet.Protocol.Tests.Fakes;
using ToolNet.Protocol.Yamux;
using Microsoft.Extensions.Logging.Abstractions;

using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.Memory;

public class MemoryTransportTests
{
    private static readonly Multiaddr AnyNumber = Multiaddr.Parse("/memory/0");
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Two_hosts_on_the_memory_network_run_echo_under_noise_and_under_plaintext()
    {
        var network = new MemoryNetwork();
        foreach (var plaintext in new[] { false, true })
        {
            await using var a = await TestHosts.StartOnMemoryAsync(network, plaintext);
            await using var b = await TestHosts.StartOnMemoryAsync(network, plaintext);
            using var echo = new EchoService(b);

            var connection = await a.ConnectAsync(b.ListenAddresses[0].WithPeerId(b.PeerId));
            var reply = await EchoService.EchoAsync(connection, "over memory"u8.ToArray()).WaitAsync(Patience);

            Assert.Equal("over memory", Encoding.UTF8.GetString(reply));
            Assert.Equal(plaintext ? PlaintextSecurity.Id : "/noise", connection.Security);
            Assert.Equal(b.PeerId, connection.RemotePeer);
            Assert.True(MemoryNetwork.TryGetNumber(connection.RemoteAddress, out _));
        }
    }

    [Fact]
    public async Task Listening_on_memory_0_takes_the_endpoints_own_number_and_a_taken_number_is_refused()
    {
        var network = new MemoryNetwork();
        var first = network.CreateTransport();
        var second = network.CreateTransport();
        await using var listener = await first.ListenAsync(AnyNumber);

        Assert.Equal(first.Address, listener.ListenAddress);
        Assert.NotEqual(first.Number, second.Number);
        await Assert.ThrowsAsync<IOException>(async () => await second.ListenAsync(first.Address));
    }

    [Fact]
    public async Task A_dial_to_a_number_nobody_listens_on_is_refused_at_once()
    {
        var network = new MemoryNetwork();
        var dialer = network.CreateTransport();

        var refused = await Assert.ThrowsAsync<IOException>(async () => await dialer.DialAsync(Multiaddr.Parse("/memory/999"), TransportDialOptions.Default));
        Assert.Contains("connection refused", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bytes_cross_in_order_and_a_half_close_is_read_as_end_of_stream()
    {
        var (dialer, accepter) = await ConnectAsync(new MemoryNetwork());

        await dialer.Output.WriteAsync("hello "u8.ToArray());
        await dialer.Output.WriteAsync("world"u8.ToArray());
        await dialer.Output.CompleteAsync();

        Assert.Equal("hello world", Encoding.UTF8.GetString(await accepter.Input.ReadToEndAsync().WaitAsync(Patience)));
        Assert.Equal(Direction.Outbound, dialer.Direction);
        Assert.Equal(Direction.Inbound, accepter.Direction);
        Assert.Equal(dialer.LocalAddress, accepter.RemoteAddress);
        Assert.Equal(accepter.LocalAddress, dialer.RemoteAddress);
    }

    [Fact]
    public async Task An_abort_is_a_reset_the_remote_reads_as_an_error()
    {
        var (dialer, accepter) = await ConnectAsync(new MemoryNetwork());

        dialer.Abort();

        await Assert.ThrowsAsync<IOException>(async () => await accepter.Input.ReadAsync().AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task A_vanished_endpoint_delivers_nothing_until_restored_and_dials_to_it_time_out()
    {
        var network = new MemoryNetwork();
        var left = network.CreateTransport();
        var right = network.CreateTransport();
        await using var listener = await right.ListenAsync(AnyNumber);
        var dialer = await left.DialAsync(right.Address, TransportDialOptions.Default);
        var accepter = (await listener.AcceptAsync())!;

        network.Vanish(right);
        await dialer.Output.WriteAsync("lost?"u8.ToArray());
        await dialer.Output.CompleteAsync();
        var read = accepter.Input.ReadAsync().AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted, "a vanished endpoint received data");

        var timedOut = await Assert.ThrowsAsync<TimeoutException>(async () =>
            await left.DialAsync(right.Address, TransportDialOptions.Default with { Timeout = TimeSpan.FromMilliseconds(50) }));
        Assert.Contains("timed out", timedOut.Message, StringComparison.Ordinal);

        network.Restore(right);
        var result = await read.WaitAsync(Patience);
        Assert.Equal("lost?", Encoding.UTF8.GetString(result.Buffer.ToArray()));
    }

    [Fact]
    public async Task A_cut_link_stops_delivery_between_two_endpoints_only()
    {
        var network = new MemoryNetwork();
        var a = network.CreateTransport();
        var b = network.CreateTransport();
        var c = network.CreateTransport();
        await using var listener = await c.ListenAsync(AnyNumber);
        var fromA = await a.DialAsync(c.Address, TransportDialOptions.Default);
        var atCFromA = (await listener.AcceptAsync())!;
        var fromB = await b.DialAsync(c.Address, TransportDialOptions.Default);
        var atCFromB = (await listener.AcceptAsync())!;

        network.Cut(a.Number, c.Number);
        await fromA.Output.WriteAsync("a"u8.ToArray());
        await fromB.Output.WriteAsync("b"u8.ToArray());
        var readA = atCFromA.Input.ReadAsync().AsTask();

        Assert.Equal("b", Encoding.UTF8.GetString((await atCFromB.Input.ReadAsync().AsTask().WaitAsync(Patience)).Buffer.ToArray()));
        await Task.Delay(50);
        Assert.False(readA.IsCompleted);

        network.Heal(a.Number, c.Number);
        Assert.Equal("a", Encoding.UTF8.GetString((await readA.WaitAsync(Patience)).Buffer.ToArray()));
    }

    [Fact]
    public async Task Latency_delays_each_direction_by_the_virtual_clock()
    {
        var clock = new ManualTimeProvider();
        var network = new MemoryNetwork(new MemoryNetworkOptions { TimeProvider = clock, Latency = TimeSpan.FromMilliseconds(20) });
        var (dialer, accepter) = await ConnectAsync(network);

        await dialer.Output.WriteAsync("ping"u8.ToArray());
        var read = accepter.Input.ReadAsync().AsTask();
        await Task.Delay(50);
        Assert.False(read.IsCompleted, "delivered before the latency passed");

        await AdvanceUntilAsync(clock, read);
        var delivered = await read;
        Assert.Equal("ping", Encoding.UTF8.GetString(delivered.Buffer.ToArray()));
        accepter.Input.AdvanceTo(delivered.Buffer.End);

        // End-of-stream travels the same delay line.
        await dialer.Output.CompleteAsync();
        var end = accepter.Input.ReadAsync().AsTask();
        await AdvanceUntilAsync(clock, end);
        Assert.True((await end).IsCompleted);
    }

    [Fact]
    public async Task With_latency_a_reset_still_reaches_the_remote()
    {
        var clock = new ManualTimeProvider();
        var network = new MemoryNetwork(new MemoryNetworkOptions { TimeProvider = clock, Latency = TimeSpan.FromMilliseconds(5) });
        var (dialer, accepter) = await ConnectAsync(network);

        dialer.Abort();
        var read = accepter.Input.ReadAsync().AsTask();
        await AdvanceUntilAsync(clock, read);

        await Assert.ThrowsAsync<IOException>(() => read);
    }

    private static async Task AdvanceUntilAsync(ManualTimeProvider clock, Task task)
    {
        for (var i = 0; i < 1000 && !task.IsCompleted; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(5));
            await Task.WhenAny(task, Task.Delay(10));
        }

        Assert.True(task.IsCompleted, "never delivered");
    }

    private static async Task<(ITransportConnection Dialer, ITransportConnection Accepter)> ConnectAsync(MemoryNetwork network)
    {
        var left = network.CreateTransport();
        var right = network.CreateTransport();
        var listener = await right.ListenAsync(AnyNumber);
        var dialer = await left.DialAsync(right.Address, TransportDialOptions.Default);
        var accepter = await listener.AcceptAsync();
        return (dialer, accepter!);
    }
}
