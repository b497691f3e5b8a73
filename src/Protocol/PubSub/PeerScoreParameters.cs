using System.Net;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.PubSub;

/// <summary>
/// The score thresholds of gossipsub-v1.1.md "Score Thresholds": what a peer's score must reach for us to gossip
/// with it, publish to it, listen to it at all, take its peer exchange, and when opportunistic grafting starts.
/// </summary>
public sealed record PeerScoreThresholds
{
    /// <summary>Below this we neither gossip to the peer nor take its gossip (≤ 0).</summary>
    public double Gossip { get; init; } = -100;

    /// <summary>Below this our own messages do not go to the peer (≤ <see cref="Gossip"/>).</summary>
    public double Publish { get; init; } = -500;

    /// <summary>Below this every RPC from the peer is ignored (≤ <see cref="Publish"/>).</summary>
    public double Graylist { get; init; } = -1000;

    /// <summary>At or above this we follow the peer's peer exchange (≥ 0).</summary>
    public double AcceptPeerExchange { get; init; }

    /// <summary>When the median mesh score of a topic is below this, the heartbeat grafts better peers (≥ 0).</summary>
    public double OpportunisticGraft { get; init; } = 1;
}

/// <summary>The per-topic score parameters (P1–P4) of gossipsub-v1.1.md "Topic Parameter Calculation".</summary>
public sealed record TopicScoreParameters
{
    /// <summary>The defaults: time in mesh (up to 36) and first deliveries (up to 50) count a little, so that one
    /// invalid message (-100) outweighs all a peer can earn; mesh delivery deficits (P3, P3b) are off, since they
    /// need the topic's expected message rate.</summary>
    public static TopicScoreParameters Default { get; } = new();

    /// <summary>The topic's weight in the total.</summary>
    public double TopicWeight { get; init; } = 1;

    /// <summary>P1 weight (≥ 0): time in the mesh.</summary>
    public double TimeInMeshWeight { get; init; } = 0.01;

    /// <summary>P1 unit of time.</summary>
    public TimeSpan TimeInMeshQuantum { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>P1 cap, in quanta.</summary>
    public double TimeInMeshCap { get; init; } = 3600;

    /// <summary>P2 weight (≥ 0): messages the peer delivered first.</summary>
    public double FirstMessageDeliveriesWeight { get; init; } = 0.5;

    /// <summary>P2 decay per <see cref="PeerScoreParameters.DecayInterval"/>.</summary>
    public double FirstMessageDeliveriesDecay { get; init; } = 0.99;

    /// <summary>P2 cap.</summary>
    public double FirstMessageDeliveriesCap { get; init; } = 100;

    /// <summary>P3 weight (≤ 0): the squared deficit of mesh deliveries below the threshold.</summary>
    public double MeshMessageDeliveriesWeight { get; init; }

    /// <summary>P3 decay.</summary>
    public double MeshMessageDeliveriesDecay { get; init; } = 0.97;

    /// <summary>P3 deliveries expected (the decayed counter), below which the deficit counts.</summary>
    public double MeshMessageDeliveriesThreshold { get; init; } = 1;

    /// <summary>P3 counter cap.</summary>
    public double MeshMessageDeliveriesCap { get; init; } = 10;

    /// <summary>P3 applies only after the peer has been in the mesh this long.</summary>
    public TimeSpan MeshMessageDeliveriesActivation { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A duplicate this soon after the first delivery still counts for P3.</summary>
    public TimeSpan MeshMessageDeliveriesWindow { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>P3b weight (≤ 0): the deficit a peer had when it left the mesh, squared.</summary>
    public double MeshFailurePenaltyWeight { get; init; }

    /// <summary>P3b decay.</summary>
    public double MeshFailurePenaltyDecay { get; init; } = 0.97;

    /// <summary>P4 weight (≤ 0): invalid messages, squared.</summary>
    public double InvalidMessageDeliveriesWeight { get; init; } = -100;

    /// <summary>P4 decay.</summary>
    public double InvalidMessageDeliveriesDecay { get; init; } = 0.99;
}

/// <summary>The peer score function of gossipsub-v1.1.md "The Score Function" (P1–P7) and its decay.</summary>
public sealed record PeerScoreParameters
{
    /// <summary>The defaults.</summary>
    public static PeerScoreParameters Default { get; } = new();

    /// <summary>The thresholds.</summary>
    public PeerScoreThresholds Thresholds { get; init; } = new();

    /// <summary>Parameters per topic; topics not listed use <see cref="DefaultTopic"/>.</summary>
    public IReadOnlyDictionary<string, TopicScoreParameters> Topics { get; init; } = new Dictionary<string, TopicScoreParameters>();

    /// <summary>Parameters of topics not in <see cref="Topics"/>; null leaves them out of the score.</summary>
    public TopicScoreParameters? DefaultTopic { get; init; } = TopicScoreParameters.Default;

    /// <summary>The most the topic part (P1–P4) may contribute when positive.</summary>
    public double TopicScoreCap { get; init; } = 100;

    /// <summary>P5 weight: the application's own score of a peer.</summary>
    public double AppSpecificWeight { get; init; } = 1;

    /// <summary>P5: the application's score of a peer (0 by default).</summary>
    public Func<Peers.PeerId, double>? AppSpecificScore { get; init; }

    /// <summary>P6 weight (≤ 0): peers sharing an IP address beyond the threshold, squared.</summary>
    public double IPColocationFactorWeight { get; init; } = -10;

    /// <summary>P6 threshold: how many peers may share an address without penalty.</summary>
    public int IPColocationFactorThreshold { get; init; } = 10;

    /// <summary>Addresses exempt from P6; by default loopback (many nodes on one machine in tests and demos).</summary>
    public Func<IPAddress, bool> IPColocationExempt { get; init; } = IPAddress.IsLoopback;

    /// <summary>P7 weight (≤ 0): misbehaviour (GRAFT during backoff, broken IWANT promises), squared above the threshold.</summary>
    public double BehaviourPenaltyWeight { get; init; } = -10;

    /// <summary>P7 threshold.</summary>
    public double BehaviourPenaltyThreshold { get; init; } = 6;

    /// <summary>P7 decay.</summary>
    public double BehaviourPenaltyDecay { get; init; } = 0.99;

    /// <summary>How often counters decay.</summary>
    public TimeSpan DecayInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A decayed counter below this becomes 0.</summary>
    public double DecayToZero { get; init; } = 0.01;

    /// <summary>How long a disconnected peer's counters are kept, so that reconnecting does not clear a bad score.</summary>
    public TimeSpan RetainScore { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The parameters of <paramref name="topic"/>, or null when it does not count.</summary>
    public TopicScoreParameters? ForTopic(string topic) => Topics.TryGetValue(topic, out var parameters) ? parameters : DefaultTopic;

    /// <summary>The IP address of a connection's remote address, or null (for example an in-memory transport).</summary>
    internal static IPAddress? AddressOf(Multiaddr address)
    {
        foreach (var component in address.Components)
        {
            if (component.Protocol == MultiaddrProtocol.Ip4 || component.Protocol == MultiaddrProtocol.Ip6)
            {
                return new IPAddress(component.Value.Span);
            }
        }

        return null;
    }
}
