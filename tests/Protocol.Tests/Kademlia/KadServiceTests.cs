using System.Text;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Kademlia;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Kademlia;

/// <summary>A network of real DHT nodes over TCP: every operation, end to end.</summary>
public sealed class KadServiceTests : IAsyncLifetime
{
    private KadTestNetwork _network = null!;

    public async Task InitializeAsync() => _network = await KadTestNetwork.StartAsync(8);

    public async Task DisposeAsync() => await _network.DisposeAsync();

    [Fact]
    public void Routing_tables_fill_with_the_other_servers()
    {
        foreach (var node in _network.Nodes)
        {
            Assert.True(node.Dht.RoutingTable.Count >= 5, $"{node.Host.PeerId} has {node.Dht.RoutingTable.Count} peers");
            Assert.False(node.Dht.RoutingTable.Contains(node.Host.PeerId));
        }
    }

    [Fact]
    public async Task The_closest_peers_found_are_the_true_closest()
    {
        var key = "some key"u8.ToArray();
        var target = KadKey.FromKeyBytes(key);
        var outcome = await _network[3].Dht.FindClosestPeersAsync(key);
        var expected = _network.Nodes.Where(n => n != _network[3])
            .Select(n => n.Host.PeerId)
            .OrderBy(p => KadKey.FromPeerId(p), Comparer<KadKey>.Create(target.CompareDistance))
            .ToList();
        Assert.Equal(expected, outcome.Closest);
        Assert.False(outcome.TimedOut);
    }

    [Fact]
    public async Task Find_peer_returns_the_addresses_of_a_peer_we_are_not_connected_to()
    {
        var seeker = _network[1];
        var sought = _network[7];
        foreach (var connection in seeker.Host.GetConnections(sought.Host.PeerId))
        {
            await connection.CloseAsync();
        }

        var addresses = await seeker.Dht.FindPeerAsync(sought.Host.PeerId);
        Assert.Contains(sought.Host.ListenAddresses[0], addresses);
    }

    [Fact]
    public async Task A_provider_is_found_from_another_node_as_it_streams_in()
    {
        var cid = Cid.CreateV1(MulticodecCode.Raw, Multihash.Compute(MultihashCode.Sha2_256, "tool: summarize"u8));
        var key = cid.Hash.Bytes.ToArray();
        Assert.True(await _network[2].Dht.ProvideAsync(key) > 0);

        var found = new List<ProviderEntry>();
        await foreach (var provider in _network[5].Dht.FindProvidersAsync(key, limit: 1))
        {
            found.Add(provider);
        }

        var entry = Assert.Single(found);
        Assert.Equal(_network[2].Host.PeerId, entry.Provider);
        Assert.Contains(_network[2].Host.ListenAddresses[0], entry.Addresses);
    }

    [Fact]
    public async Task A_public_key_record_is_put_and_got_across()
    {
        var owner = _network[3];
        var key = PublicKeyValidator.KeyFor(owner.Host.PeerId);
        Assert.True(await owner.Dht.PutValueAsync(key, owner.Key.GetPublicKey().ToProtobuf()) > 0);

        var value = await _network[6].Dht.GetValueAsync(key);
        Assert.Equal(owner.Key.GetPublicKey().ToProtobuf(), value);
    }

    [Fact]
    public async Task The_newest_signed_value_wins_and_holders_of_an_older_one_are_corrected()
    {
        // A lookup stops at its quorum; with the default (3) it may never ask the one node holding the newer value.
        // Here every node's answer is waited for, so the newer value is always seen.
        await _network.DisposeAsync();
        _network = await KadTestNetwork.StartAsync(8, KadTestNetwork.Options with { GetValueQuorum = 8 });
        var owner = _network[4];
        var key = SignedValueValidator.KeyFor(owner.Host.PeerId, "greeting");
        var first = SignedValueValidator.Seal(owner.Key, key, 1, "hello"u8);
        var second = SignedValueValidator.Seal(owner.Key, key, 2, "hello again"u8);
        await owner.Dht.PutValueAsync(key, first);

        // One node learns the newer value; a get elsewhere must return it and correct the others.
        var holder = _network[5];
        await holder.Store.PutRecordAsync(new StoredRecord(key, second, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1)));
        var got = await _network[1].Dht.GetValueAsync(key);
        Assert.Equal(second, got);
        Assert.Equal("hello again", Encoding.UTF8.GetString(SignedValueValidator.Open(key, got).Value.Span));

        var stillOld = 0;
        foreach (var node in _network.Nodes.Where(n => n != _network[1]))
        {
            if (await node.Store.GetRecordAsync(key, DateTimeOffset.UtcNow) is { } record && record.Value.AsSpan().SequenceEqual(first))
            {
                stillOld++;
            }
        }

        // The lookup stops at its quorum, so peers it never asked may still hold the old value; those it asked were corrected.
        Assert.True(stillOld < _network.Nodes.Count - 2, $"{stillOld} nodes still hold the old value");
    }

    [Fact]
    public async Task A_record_that_fails_validation_is_refused_by_every_server()
    {
        var liar = _network[2];
        var victim = _network[3].Host.PeerId;
        var key = PublicKeyValidator.KeyFor(victim);
        await Assert.ThrowsAsync<RecordValidationException>(() => liar.Dht.PutValueAsync(key, liar.Key.GetPublicKey().ToProtobuf()));
        await Assert.ThrowsAsync<RecordValidationException>(() => liar.Dht.PutValueAsync("/unknown/x"u8.ToArray(), "v"u8.ToArray()));

        // A forged value under another peer's signed key, sent straight to a server, is refused there and counted.
        var forgedKey = SignedValueValidator.KeyFor(victim, "name");
        var forged = SignedValueValidator.Seal(liar.Key, forgedKey, 9, "forged"u8);
        var server = _network[6];
        var refusedBefore = server.Dht.Counters.RecordsRefused;
        var accepted = await RawPutAsync(liar, server, forgedKey, forged);
        Assert.False(accepted);
        Assert.Equal(refusedBefore + 1, server.Dht.Counters.RecordsRefused);
        Assert.Null(await server.Store.GetRecordAsync(forgedKey, DateTimeOffset.UtcNow));
    }

    private static async Task<bool> RawPutAsync(KadTestNode from, KadTestNode to, byte[] key, byte[] value)
    {
        var stream = await from.Host.NewStreamAsync(to.Host.PeerId, [from.Dht.ProtocolId]);
        await using (stream)
        {
            KadCodec.WriteDelimited(new KadMessage { Type = KadMessageType.PutValue, Key = key, Record = new KadRecord { Key = key, Value = value } }, stream.Output);
            await stream.Output.FlushAsync();
            try
            {
                var read = await stream.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                return !read.Buffer.IsEmpty;
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
