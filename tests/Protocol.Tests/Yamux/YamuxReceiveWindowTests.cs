using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Yamux;

public class YamuxReceiveWindowTests
{
    private const int Initial = YamuxOptions.SpecInitialWindowSize;
    private const int Max = 16 * 1024 * 1024;
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(50);

    /// <summary>A window whose budget never limits it (the max window is reserved up front).</summary>
    private static YamuxReceiveWindow NewWindow()
    {
        var budget = new YamuxReceiveBudget(4L * Max);
        Assert.True(budget.TryReserve(Max));
        return new YamuxReceiveWindow(Max, TimeSpan.Zero, budget, Max);
    }

    /// <summary>A data frame of <paramref name="length"/> bytes arrives and is handed to the reader.</summary>
    private static void Receive(YamuxReceiveWindow window, long length)
    {
        Assert.True(window.TryReceive((uint)length));
        window.OnDelivered(length);
    }

    [Fact]
    public void Starts_with_the_spec_window_and_refuses_data_beyond_it()
    {
        var window = NewWindow();
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
        var window = NewWindow();
        Assert.Equal((uint)(Max - Initial), window.Grant(Max));
        Assert.Equal(Max, window.WindowSize);
        Assert.Equal(Max, window.Credit);
        Assert.Equal(0u, window.Grant(Initial));
    }

    [Fact]
    public void Grants_the_consumed_bytes_back_once_half_the_window_was_consumed()
    {
        var window = NewWindow();
        Receive(window, Initial);
        Assert.Equal(0u, window.OnConsumed((Initial / 2) - 1, TimeSpan.FromSeconds(10), Rtt));
        Assert.Equal((uint)(Initial / 2), window.OnConsumed(1, TimeSpan.FromSeconds(10), Rtt));
        Assert.Equal(Initial, window.WindowSize);
        Assert.Equal(Initial / 2, window.Credit);
    }

    [Fact]
    public void Doubles_when_half_the_window_was_consumed_within_two_round_trips()
    {
        var window = NewWindow();
        Receive(window, Initial);
        var delta = window.OnConsumed(Initial / 2, (2 * Rtt) - TimeSpan.FromTicks(1), Rtt);
        Assert.Equal(2 * Initial, window.WindowSize);
        Assert.Equal((uint)((Initial / 2) + Initial), delta);

        // The invariant: credit + unconsumed buffered bytes == window.
        Assert.Equal(window.WindowSize, window.Credit + (Initial / 2));
    }

    [Fact]
    public void Does_not_grow_for_a_reader_slower_than_two_round_trips_or_without_an_rtt()
    {
        var window = NewWindow();
        Receive(window, Initial);
        window.OnConsumed(Initial / 2, 2 * Rtt, Rtt);
        Assert.Equal(Initial, window.WindowSize);
        window.OnConsumed(Initial / 2, (2 * Rtt) + TimeSpan.FromTicks(1), null);
        Assert.Equal(Initial, window.WindowSize);
    }

    [Fact]
    public void Grows_up_to_the_maximum_and_no_further()
    {
        var window = NewWindow();
        var now = TimeSpan.Zero;
        for (var round = 0; round < 20; round++)
        {
            var half = window.WindowSize / 2;
            Receive(window, half);
            now += TimeSpan.FromMilliseconds(1);
            window.OnConsumed(half, now, Rtt);
            Assert.True(window.Credit <= window.WindowSize);
        }

        Assert.Equal(Max, window.WindowSize);
    }

    [Fact]
    public void The_epoch_restarts_at_every_update()
    {
        var window = NewWindow();
        Receive(window, Initial);

        // A slow first epoch, then a fast one measured from the first update, not from the start.
        window.OnConsumed(Initial / 2, TimeSpan.FromSeconds(10), Rtt);
        Assert.Equal(Initial, window.WindowSize);
        window.OnConsumed(Initial / 2, TimeSpan.FromSeconds(10) + Rtt, Rtt);
        Assert.Equal(2 * Initial, window.WindowSize);
    }
}
