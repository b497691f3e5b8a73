using FsCheck.Xunit;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Yamux;

/// <summary>The connection's receive budget and a window's share of it, as pure bookkeeping.</summary>
public class YamuxReceiveBudgetTests
{
    private const int Initial = YamuxOptions.SpecInitialWindowSize;
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void Reserves_up_to_the_capacity_and_no_further()
    {
        var budget = new YamuxReceiveBudget(3 * Initial);
        Assert.True(budget.TryReserve(Initial));
        Assert.True(budget.TryReserve(2 * Initial));
        Assert.False(budget.TryReserve(1));
        Assert.Equal(3 * Initial, budget.Reserved);
        budget.Release(Initial);
        Assert.False(budget.TryReserve(Initial + 1));
        Assert.True(budget.TryReserve(Initial));
        Assert.Equal(3 * Initial, budget.Reserved);
    }

    [Fact]
    public void Growth_leaves_a_quarter_of_the_budget_for_initial_windows()
    {
        var budget = new YamuxReceiveBudget(4 * Initial);
        Assert.True(budget.TryReserve(Initial));
        Assert.True(budget.TryReserveGrowth(2 * Initial));
        Assert.False(budget.TryReserveGrowth(1));
        Assert.True(budget.TryReserve(Initial));
        Assert.Equal(4 * Initial, budget.Reserved);
    }

    [Fact]
    public void Auto_tuning_grows_only_while_the_budget_covers_the_growth()
    {
        // Growth may use 3/4 of 8 initial windows: 6 of them. 1 -> 2 -> 4 windows fits, 4 -> 8 does not.
        var budget = new YamuxReceiveBudget(8 * Initial);
        Assert.True(budget.TryReserve(Initial));
        var window = new YamuxReceiveWindow(64 * Initial, TimeSpan.Zero, budget, Initial);
        var now = TimeSpan.Zero;
        for (var round = 0; round < 10; round++)
        {
            var half = window.WindowSize / 2;
            Assert.True(window.TryReceive((uint)half));
            window.OnDelivered(half);
            now += TimeSpan.FromMilliseconds(1);

            // Fast enough to grow every time; when growth is refused the consumed bytes still go back.
            var delta = window.OnConsumed(half, now, Rtt);
            Assert.True(delta >= half);
            Assert.Equal(window.WindowSize, window.Reserved);
            Assert.Equal(budget.Reserved, window.Reserved);
        }

        Assert.Equal(4 * Initial, window.WindowSize);
        Assert.Equal(4 * Initial, window.Credit);
    }

    [Fact]
    public void Closing_keeps_only_the_unread_bytes_reserved_until_they_are_read_or_dropped()
    {
        var budget = new YamuxReceiveBudget(4 * Initial);
        Assert.True(budget.TryReserve(2 * Initial));
        var window = new YamuxReceiveWindow(4 * Initial, TimeSpan.Zero, budget, 2 * Initial);
        Assert.Equal((uint)Initial, window.Grant(2 * Initial));
        Assert.Throws<InvalidOperationException>(() => window.Grant(3 * Initial));
        Assert.True(window.TryReceive(1000));
        window.OnDelivered(1000);

        window.Close();
        Assert.Equal(1000, window.Reserved);
        Assert.Equal(1000, budget.Reserved);
        Assert.Equal(0u, window.OnConsumed(400, TimeSpan.Zero, Rtt));
        Assert.Equal(600, budget.Reserved);

        // Data still in flight is within the credit (not a protocol error) but no longer buffered.
        Assert.True(window.TryReceive(5000));
        Assert.Equal(600, budget.Reserved);
        window.Discard();
        Assert.Equal(0, window.Reserved);
        Assert.Equal(0, budget.Reserved);
    }

    /// <summary>Streams of one connection open, receive, grow, get read, close and drop in any order: the budget is
    /// the sum of what the windows hold, never more than its capacity, every open window's credit plus unread bytes
    /// fit its reservation, and once everything is read or dropped nothing is reserved.</summary>
    [Property(MaxTest = 300)]
    public bool Reservations_stay_within_the_budget_and_end_at_zero((byte Op, byte Index, ushort Amount)[] operations)
    {
        var budget = new YamuxReceiveBudget(8 * Initial);
        var windows = new List<(YamuxReceiveWindow Window, bool Closed)>();
        var now = TimeSpan.Zero;
        var ok = true;

        foreach (var (op, index, amount) in operations)
        {
            now += TimeSpan.FromMilliseconds(amount % 40);
            if (op % 6 == 0 || windows.Count == 0)
            {
                if (budget.TryReserve(Initial))
                {
                    windows.Add((new YamuxReceiveWindow(16 * Initial, now, budget, Initial), false));
                }

                continue;
            }

            var i = index % windows.Count;
            var (window, closed) = windows[i];
            switch (op % 6)
            {
                case 1 or 2:
                    // The remote sends what its credit allows, in pieces of up to 4 * 64 KiB.
                    var length = Math.Min(window.Credit, amount * 4L);
                    ok &= window.TryReceive((uint)length);
                    if (!closed)
                    {
                        window.OnDelivered(length);
                    }

                    ok &= !window.TryReceive((uint)window.Credit + 1);
                    break;
                case 3:
                    window.OnConsumed(Math.Min(window.Buffered, amount * 8L), now, Rtt);
                    break;
                case 4:
                    window.Close();
                    windows[i] = (window, true);
                    break;
                default:
                    window.Discard();
                    windows[i] = (window, true);
                    break;
            }

            ok &= Holds(budget, windows);
        }

        for (var i = 0; i < windows.Count; i++)
        {
            var window = windows[i].Window;
            window.Close();
            windows[i] = (window, true);
            window.OnConsumed(window.Buffered, now, Rtt);
            ok &= Holds(budget, windows);
        }

        return ok && budget.Reserved == 0;
    }

    private static bool Holds(YamuxReceiveBudget budget, List<(YamuxReceiveWindow Window, bool Closed)> windows) =>
        budget.Reserved == windows.Sum(w => w.Window.Reserved)
        && budget.Reserved <= budget.Capacity
        && windows.All(w => w.Window.Buffered <= w.Window.Reserved
            && (w.Closed || (w.Window.Credit + w.Window.Buffered <= w.Window.Reserved && w.Window.WindowSize <= w.Window.Reserved)));
}
