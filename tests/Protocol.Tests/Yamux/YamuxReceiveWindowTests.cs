using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Yamux;

public class YamuxReceiveWindowTests
{
    private const int Initial = YamuxOptions.SpecInitialWindowSize;
    private const int Max = 16 * 1024 * 1024;
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void Starts_with_the_spec_window_and_refuses_data_beyond_it()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.Equal(Initial, window.WindowSize);
        Assert.True(window.TryReceive(Initial - 1));
        Assert.False(window.TryReceive(2));
        Assert.True(window.TryReceive(1));
        Assert.False(window.TryReceive(1));
        Assert.Equal(0, window.Credit);
    }

    [Fact]
    public void A_larger_initial_window_is_granted_as_a_delta()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.Equal((uint)(Max - Initial), window.Grant(Max));
        Assert.Equal(Max, window.WindowSize);
        Assert.Equal(Max, window.Credit);
        Assert.Equal(0u, window.Grant(Initial));
    }

    [Fact]
    public void Grants_the_consumed_bytes_back_once_half_the_window_was_consumed()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.True(window.TryReceive(Initial));
        Assert.Equal(0u, window.OnConsumed((Initial / 2) - 1, TimeSpan.FromSeconds(10), Rtt));
        Assert.Equal((uint)(Initial / 2), window.OnConsumed(1, TimeSpan.FromSeconds(10), Rtt));
        Assert.Equal(Initial, window.WindowSize);
        Assert.Equal(Initial / 2, window.Credit);
    }

    [Fact]
    public void Doubles_when_half_the_window_was_consumed_within_two_round_trips()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.True(window.TryReceive(Initial));
        var delta = window.OnConsumed(Initial / 2, (2 * Rtt) - TimeSpan.FromTicks(1), Rtt);
        Assert.Equal(2 * Initial, window.WindowSize);
        Assert.Equal((uint)((Initial / 2) + Initial), delta);

        // The invariant: credit + unconsumed buffered bytes == window.
        Assert.Equal(window.WindowSize, window.Credit + (Initial / 2));
    }

    [Fact]
    public void Does_not_grow_for_a_reader_slower_than_two_round_trips_or_without_an_rtt()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.True(window.TryReceive(Initial));
        window.OnConsumed(Initial / 2, 2 * Rtt, Rtt);
        Assert.Equal(Initial, window.WindowSize);
        window.OnConsumed(Initial / 2, (2 * Rtt) + TimeSpan.FromTicks(1), null);
        Assert.Equal(Initial, window.WindowSize);
    }

    [Fact]
    public void Grows_up_to_the_maximum_and_no_further()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        var now = TimeSpan.Zero;
        for (var round = 0; round < 20; round++)
        {
            var half = window.WindowSize / 2;
            Assert.True(window.TryReceive((uint)half));
            now += TimeSpan.FromMilliseconds(1);
            window.OnConsumed(half, now, Rtt);
            Assert.True(window.Credit <= window.WindowSize);
        }

        Assert.Equal(Max, window.WindowSize);
    }

    [Fact]
    public void The_epoch_restarts_at_every_update()
    {
        var window = new YamuxReceiveWindow(Max, TimeSpan.Zero);
        Assert.True(window.TryReceive(Initial));

        // A slow first epoch, then a fast one measured from the first update, not from the start.
        window.OnConsumed(Initial / 2, TimeSpan.FromSeconds(10), Rtt);
        Assert.Equal(Initial, window.WindowSize);
        window.OnConsumed(Initial / 2, TimeSpan.FromSeconds(10) + Rtt, Rtt);
        Assert.Equal(2 * Initial, window.WindowSize);
    }
}
