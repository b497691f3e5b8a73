using ToolNet.Benchmarks;
using Xunit.Abstractions;

namespace ToolNet.Protocol.Tests.PubSub;

/// <summary>The GossipSub simulation at a size CI can afford: real hosts on the in-memory network with 20 ms links.
/// The benchmark program (<c>tests/Benchmarks -- pubsub-sim</c>) runs it at 1,000 nodes.</summary>
public sealed class PubSubSimulationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_live_honest_node_gets_every_message_despite_churn_and_droppers()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var result = await PubSubSimulation.RunAsync(
            new PubSubSimulationSettings { Nodes = 60, Messages = 60, Churn = 0.1, Misbehaving = 0.1, Misbehaviour = Misbehaviour.Drop, Settle = TimeSpan.FromSeconds(30) },
            deadline.Token);
        output.WriteLine(result.ToString());
        Assert.Equal(1.0, result.DeliveryRatio);
        Assert.InRange(result.MeanMeshSize, 4, 12);
    }

    [Fact]
    public async Task Nodes_spamming_forged_messages_are_scored_below_zero_and_do_not_hurt_delivery()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var result = await PubSubSimulation.RunAsync(
            new PubSubSimulationSettings { Nodes = 40, Messages = 30, Misbehaving = 0.1, Misbehaviour = Misbehaviour.SpamInvalid, Settle = TimeSpan.FromSeconds(30) },
            deadline.Token);
        output.WriteLine(result.ToString());
        Assert.Equal(1.0, result.DeliveryRatio);
        Assert.True(result.MeanSpammerScore < 0, result.ToString());
    }
}
