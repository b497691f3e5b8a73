using FsCheck.Xunit;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Tests.Fakes;
using static ToolNet.Protocol.Tests.Peers.TestPeers;

namespace ToolNet.Protocol.Tests.Peers;

/// <summary>Properties of <see cref="PeerStore"/> against a model: what is visible is exactly what has not expired.</summary>
public class PeerStorePropertyTests
{
    private static readonly PeerId Peer = NewPeer();

    /// <summary>Each 4 bytes of <paramref name="script"/> are one step: an address (of 5), a TTL (0–29 min), add or set,
    /// then a clock advance (0–9 min). The model: add keeps the later expiry, set replaces everything.</summary>
    [Property(MaxTest = 300)]
    public void Visible_addresses_are_those_whose_latest_expiry_is_still_ahead(byte[] script)
    {
        var clock = new ManualTimeProvider();
        var store = new PeerStore(clock);
        var model = new Dictionary<int, DateTimeOffset>();
        for (var i = 0; i + 3 < script.Length; i += 4)
        {
            var port = script[i] % 5;
            var ttl = TimeSpan.FromMinutes(script[i + 1] % 30);
            var now = clock.GetUtcNow();
            if (script[i + 2] % 2 == 0)
            {
                store.AddAddresses(Peer, [TcpAt(port)], ttl);
                if (ttl > TimeSpan.Zero && (!model.TryGetValue(port, out var expiry) || expiry < now + ttl))
                {
                    model[port] = now + ttl;
                }
            }
            else
            {
                store.SetAddresses(Peer, [TcpAt(port)], ttl);
                model.Clear();
                if (ttl > TimeSpan.Zero)
                {
                    model[port] = now + ttl;
                }
            }

            clock.Advance(TimeSpan.FromMinutes(script[i + 3] % 10));
            var expected = model.Where(pair => pair.Value > clock.GetUtcNow()).Select(pair => TcpAt(pair.Key)).ToHashSet();
            Assert.True(expected.SetEquals(store.GetAddresses(Peer)));
            Assert.Equal(expected.Count > 0, store.Peers.Contains(Peer));
        }
    }

    [Property]
    public void The_latency_average_stays_between_the_smallest_and_largest_sample(ushort[] samplesMs)
    {
        var store = new PeerStore(new ManualTimeProvider());
        foreach (var sample in samplesMs)
        {
            store.RecordLatency(Peer, TimeSpan.FromMilliseconds(sample));
        }

        var latency = store.GetLatency(Peer);
        if (samplesMs.Length == 0)
        {
            Assert.Null(latency);
        }
        else
        {
            Assert.InRange(latency!.Value, TimeSpan.FromMilliseconds(samplesMs.Min()), TimeSpan.FromMilliseconds(samplesMs.Max()));
        }
    }
}
