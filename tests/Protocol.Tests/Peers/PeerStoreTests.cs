using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Tests.Fakes;
using static ToolNet.Protocol.Tests.Peers.TestPeers;

namespace ToolNet.Protocol.Tests.Peers;

public class PeerStoreTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly PeerId _peer = NewPeer();

    private PeerStore NewStore(PeerStoreOptions? options = null) => new(_clock, options);

    [Fact]
    public void Addresses_are_visible_until_their_ttl_ends()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], PeerStoreTtl.TemporaryAddress);

        _clock.Advance(PeerStoreTtl.TemporaryAddress - TimeSpan.FromTicks(1));
        Assert.Equal([TcpAt(1)], store.GetAddresses(_peer));
        Assert.Equal([_peer], store.Peers);

        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Empty(store.GetAddresses(_peer));
        Assert.Empty(store.Peers);
    }

    [Fact]
    public void Adding_again_extends_an_address_but_never_shortens_it()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], TimeSpan.FromMinutes(10));
        store.AddAddresses(_peer, [TcpAt(1)], TimeSpan.FromMinutes(1));

        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal([TcpAt(1)], store.GetAddresses(_peer));

        store.AddAddresses(_peer, [TcpAt(1)], TimeSpan.FromMinutes(20));
        _clock.Advance(TimeSpan.FromMinutes(19));
        Assert.Equal([TcpAt(1)], store.GetAddresses(_peer));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(store.GetAddresses(_peer));
    }

    [Fact]
    public void Setting_replaces_all_addresses_and_a_zero_ttl_clears_them()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1), TcpAt(2)], PeerStoreTtl.Permanent);

        store.SetAddresses(_peer, [TcpAt(3)], TimeSpan.FromMinutes(1));
        Assert.Equal([TcpAt(3)], store.GetAddresses(_peer));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(store.GetAddresses(_peer));

        store.SetAddresses(_peer, [TcpAt(4)], PeerStoreTtl.Permanent);
        store.SetAddresses(_peer, [TcpAt(4)], TimeSpan.Zero);
        Assert.Empty(store.GetAddresses(_peer));
    }

    [Fact]
    public void Permanent_addresses_outlive_any_clock()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], PeerStoreTtl.Permanent);
        _clock.Advance(TimeSpan.FromDays(365 * 1000));
        store.Prune();
        Assert.Equal([TcpAt(1)], store.GetAddresses(_peer));
    }

    [Fact]
    public void Zero_ttl_adds_nothing_and_negative_ttl_is_rejected()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], TimeSpan.Zero);
        Assert.Empty(store.GetAddresses(_peer));
        Assert.Equal(0, store.Count);

        Assert.Throws<ArgumentOutOfRangeException>(() => store.AddAddresses(_peer, [TcpAt(1)], TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.SetAddresses(_peer, [TcpAt(1)], TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void A_trailing_p2p_of_the_peer_is_stripped_and_one_of_another_peer_is_ignored()
    {
        var store = NewStore();
        var other = NewPeer();
        var relayed = Multiaddr.Parse($"/ip4/192.0.2.1/tcp/4001/p2p/{other}/p2p-circuit");

        store.AddAddresses(_peer, [
            TcpAt(1).WithPeerId(_peer),
            TcpAt(1),
            TcpAt(2).WithPeerId(other),
            relayed.WithPeerId(_peer),
            Multiaddr.Parse($"/p2p/{_peer}"),
        ], PeerStoreTtl.Permanent);

        Assert.Equal([TcpAt(1), relayed], store.GetAddresses(_peer));
    }

    [Fact]
    public void Past_the_address_bound_the_longest_lived_are_kept_in_their_order()
    {
        var store = NewStore(new PeerStoreOptions { MaxAddressesPerPeer = 3 });
        store.AddAddresses(_peer, [TcpAt(1), TcpAt(2)], TimeSpan.FromMinutes(10));
        store.AddAddresses(_peer, [TcpAt(3), TcpAt(4)], TimeSpan.FromMinutes(1));
        Assert.Equal([TcpAt(1), TcpAt(2), TcpAt(3)], store.GetAddresses(_peer));

        store.AddAddresses(_peer, [TcpAt(5)], TimeSpan.FromHours(1));
        Assert.Equal([TcpAt(1), TcpAt(2), TcpAt(5)], store.GetAddresses(_peer));

        // Expired addresses make room before anything live is dropped.
        _clock.Advance(TimeSpan.FromMinutes(10));
        store.AddAddresses(_peer, [TcpAt(6), TcpAt(7), TcpAt(8)], TimeSpan.FromMinutes(1));
        Assert.Equal([TcpAt(5), TcpAt(6), TcpAt(7)], store.GetAddresses(_peer));
    }

    [Fact]
    public void Disconnecting_moves_connected_addresses_to_recently_connected()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], PeerStoreTtl.ConnectedAddress);
        store.AddAddresses(_peer, [TcpAt(2)], PeerStoreTtl.Permanent);
        store.MarkConnected(_peer, true);
        _clock.Advance(TimeSpan.FromDays(30));
        Assert.Equal([TcpAt(1), TcpAt(2)], store.GetAddresses(_peer));

        store.MarkConnected(_peer, false);
        _clock.Advance(PeerStoreTtl.RecentlyConnected - TimeSpan.FromSeconds(1));
        Assert.Equal([TcpAt(1), TcpAt(2)], store.GetAddresses(_peer));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([TcpAt(2)], store.GetAddresses(_peer));
    }

    [Fact]
    public void Prune_forgets_peers_left_with_nothing_but_keeps_connected_ones_and_keys()
    {
        var store = NewStore();
        var connected = NewPeer();
        var key = EcdsaPrivateKey.Generate().GetPublicKey();
        var withKey = PeerId.FromPublicKey(key);
        foreach (var peer in new[] { _peer, connected, withKey })
        {
            store.AddAddresses(peer, [TcpAt(1)], PeerStoreTtl.TemporaryAddress);
            store.SetProtocols(peer, ["/ipfs/id/1.0.0"]);
        }

        store.MarkConnected(connected, true);
        store.AddPublicKey(withKey, key);
        _clock.Advance(PeerStoreTtl.TemporaryAddress);
        Assert.Equal(3, store.Count);
        Assert.Equal([withKey], store.Peers);

        store.Prune();

        Assert.Equal(2, store.Count);
        Assert.Empty(store.GetProtocols(_peer));
        Assert.Equal(["/ipfs/id/1.0.0"], store.GetProtocols(connected));
        Assert.Equal(["/ipfs/id/1.0.0"], store.GetProtocols(withKey));
    }

    [Fact]
    public void When_full_peers_without_addresses_go_first_then_the_least_recently_updated()
    {
        var store = NewStore(new PeerStoreOptions { MaxPeers = 10 });
        var peers = NewPeers(12);
        store.MarkConnected(peers[0], true);
        store.SetProtocols(peers[1], ["/only/protocols"]);
        for (var i = 2; i < 10; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            store.AddAddresses(peers[i], [TcpAt(i)], PeerStoreTtl.Permanent);
        }

        _clock.Advance(TimeSpan.FromSeconds(1));
        store.AddAddresses(peers[0], [TcpAt(0)], PeerStoreTtl.ConnectedAddress);
        store.AddAddresses(peers[2], [TcpAt(2)], PeerStoreTtl.Permanent); // peers[2] is now recently updated
        Assert.Equal(10, store.Count);

        store.AddAddresses(peers[10], [TcpAt(10)], PeerStoreTtl.Permanent);
        Assert.Equal(10, store.Count);
        Assert.Empty(store.GetProtocols(peers[1]));

        store.AddAddresses(peers[11], [TcpAt(11)], PeerStoreTtl.Permanent);
        Assert.Equal(10, store.Count);
        Assert.Empty(store.GetAddresses(peers[3]));
        Assert.Equal([TcpAt(0)], store.GetAddresses(peers[0]));
        Assert.Equal([TcpAt(2)], store.GetAddresses(peers[2]));
        Assert.Equal(
            new[] { 0, 2, 4, 5, 6, 7, 8, 9, 10, 11 }.Select(i => peers[i]).Order(),
            store.Peers.Order());
    }

    [Fact]
    public void Connected_peers_are_never_evicted_and_are_kept_beyond_the_bound()
    {
        var store = NewStore(new PeerStoreOptions { MaxPeers = 4 });
        var peers = NewPeers(6);
        for (var i = 0; i < 4; i++)
        {
            store.MarkConnected(peers[i], true);
            store.AddAddresses(peers[i], [TcpAt(i)], PeerStoreTtl.ConnectedAddress);
        }

        // No room and nothing evictable: a write about a new, unconnected peer is dropped.
        store.AddAddresses(peers[4], [TcpAt(4)], PeerStoreTtl.Permanent);
        Assert.Empty(store.GetAddresses(peers[4]));

        store.MarkConnected(peers[5], true);
        store.AddAddresses(peers[5], [TcpAt(5)], PeerStoreTtl.ConnectedAddress);
        Assert.Equal(5, store.Count);
        Assert.All(new[] { 0, 1, 2, 3, 5 }, i => Assert.Equal([TcpAt(i)], store.GetAddresses(peers[i])));

        // Once a peer disconnects it may be evicted again, down to the bound.
        store.MarkConnected(peers[1], false);
        store.MarkConnected(peers[2], false);
        store.AddAddresses(peers[4], [TcpAt(4)], PeerStoreTtl.Permanent);
        Assert.Equal(4, store.Count);
        Assert.Equal([TcpAt(4)], store.GetAddresses(peers[4]));
    }

    [Fact]
    public void A_removed_peer_is_forgotten()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], PeerStoreTtl.Permanent);
        store.MarkConnected(_peer, true);
        store.RemovePeer(_peer);

        Assert.Equal(0, store.Count);
        Assert.Empty(store.GetAddresses(_peer));
        store.RemovePeer(_peer);
    }

    [Fact]
    public void A_key_that_does_not_match_the_peer_is_rejected()
    {
        var store = NewStore();
        var otherKey = Ed25519PrivateKey.Generate().GetPublicKey();

        var exception = Assert.Throws<ArgumentException>(() => store.AddPublicKey(_peer, otherKey));
        Assert.Contains(_peer.ToString(), exception.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void An_inline_key_is_extracted_and_a_hashed_one_must_be_added()
    {
        var store = NewStore();
        Assert.True(_peer.TryExtractPublicKey(out var inline));
        Assert.Equal(inline, store.GetPublicKey(_peer));
        Assert.Empty(store.Peers);

        var key = EcdsaPrivateKey.Generate().GetPublicKey();
        var hashed = PeerId.FromPublicKey(key);
        Assert.Null(store.GetPublicKey(hashed));
        store.AddPublicKey(hashed, key);
        Assert.Equal(key, store.GetPublicKey(hashed));
        Assert.Equal([hashed], store.Peers);
    }

    [Fact]
    public void Protocols_are_replaced_deduplicated_and_bounded()
    {
        var store = NewStore(new PeerStoreOptions { MaxProtocolsPerPeer = 3, MaxProtocolLength = 10 });
        store.SetProtocols(_peer, ["/a", "/b", "/a", "", "/much/too/long", "/c", "/d"]);
        Assert.Equal(["/a", "/b", "/c"], store.GetProtocols(_peer));

        store.SetProtocols(_peer, ["/e"]);
        Assert.Equal(["/e"], store.GetProtocols(_peer));
        store.SetProtocols(_peer, []);
        Assert.Empty(store.GetProtocols(_peer));
        Assert.Empty(store.GetProtocols(NewPeer()));
    }

    [Fact]
    public void Latency_is_an_exponentially_weighted_moving_average()
    {
        var store = NewStore();
        Assert.Null(store.GetLatency(_peer));

        store.RecordLatency(_peer, TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(100), store.GetLatency(_peer));
        store.RecordLatency(_peer, TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(110), store.GetLatency(_peer));
        store.RecordLatency(_peer, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromMilliseconds(99), store.GetLatency(_peer));

        var halves = NewStore(new PeerStoreOptions { LatencySmoothing = 0.5 });
        halves.RecordLatency(_peer, TimeSpan.FromMilliseconds(100));
        halves.RecordLatency(_peer, TimeSpan.FromMilliseconds(300));
        Assert.Equal(TimeSpan.FromMilliseconds(200), halves.GetLatency(_peer));

        Assert.Throws<ArgumentOutOfRangeException>(() => store.RecordLatency(_peer, TimeSpan.FromTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PeerStore(_clock, new PeerStoreOptions { LatencySmoothing = 0 }));
    }

    [Fact]
    public void Metadata_values_are_cut_to_length_and_keys_are_bounded()
    {
        var store = NewStore(new PeerStoreOptions { MaxMetadataEntriesPerPeer = 2, MaxMetadataKeyLength = 8, MaxMetadataValueLength = 5 });
        Assert.Null(store.GetMetadata(_peer, "agent"));

        store.SetMetadata(_peer, "agent", "toolnet/0.1");
        Assert.Equal("tooln", store.GetMetadata(_peer, "agent"));
        store.SetMetadata(_peer, "agent", "go");
        Assert.Equal("go", store.GetMetadata(_peer, "agent"));
        store.SetMetadata(_peer, "proto", "abcd\ud83d\ude00");
        Assert.Equal("abcd", store.GetMetadata(_peer, "proto"));

        Assert.Throws<ArgumentException>(() => store.SetMetadata(_peer, "third", "x"));
        Assert.Throws<ArgumentException>(() => store.SetMetadata(_peer, "much-too-long", "x"));
        Assert.Throws<ArgumentException>(() => store.SetMetadata(_peer, "", "x"));
        store.SetMetadata(_peer, "agent", "again");
        Assert.Equal("again", store.GetMetadata(_peer, "agent"));
    }

    [Fact]
    public void Peer_records_are_accepted_only_with_a_newer_sequence_number()
    {
        var store = NewStore();
        store.AddAddresses(_peer, [TcpAt(1)], PeerStoreTtl.Permanent);
        byte[] first = [1, 2, 3];

        Assert.True(store.ConsumePeerRecord(_peer, 5, [TcpAt(2).WithPeerId(_peer)], first, TimeSpan.FromHours(1)));
        first[0] = 99; // the store keeps its own copy
        Assert.Equal([TcpAt(2)], store.GetAddresses(_peer));
        Assert.Equal(new byte[] { 1, 2, 3 }, store.GetPeerRecordEnvelope(_peer)!.Value.ToArray());

        Assert.False(store.ConsumePeerRecord(_peer, 5, [TcpAt(3)], new byte[] { 4 }, TimeSpan.FromHours(1)));
        Assert.False(store.ConsumePeerRecord(_peer, 4, [TcpAt(3)], new byte[] { 4 }, TimeSpan.FromHours(1)));
        Assert.Equal([TcpAt(2)], store.GetAddresses(_peer));
        Assert.Equal(new byte[] { 1, 2, 3 }, store.GetPeerRecordEnvelope(_peer)!.Value.ToArray());

        Assert.True(store.ConsumePeerRecord(_peer, 6, [TcpAt(3), TcpAt(4)], new byte[] { 6 }, TimeSpan.FromHours(1)));
        Assert.Equal([TcpAt(3), TcpAt(4)], store.GetAddresses(_peer));
        Assert.Equal(new byte[] { 6 }, store.GetPeerRecordEnvelope(_peer)!.Value.ToArray());
    }

    [Fact]
    public void A_peer_record_expires_but_its_sequence_number_is_remembered()
    {
        var store = NewStore(new PeerStoreOptions { MaxPeerRecordLength = 4 });
        Assert.Null(store.GetPeerRecordEnvelope(_peer));
        Assert.False(store.ConsumePeerRecord(_peer, 1, [TcpAt(1)], new byte[5], TimeSpan.FromHours(1)));
        Assert.Equal(0, store.Count);

        Assert.True(store.ConsumePeerRecord(_peer, 7, [TcpAt(1)], new byte[] { 7 }, TimeSpan.FromMinutes(10)));
        store.MarkConnected(_peer, true);
        _clock.Advance(TimeSpan.FromMinutes(10));
        store.Prune();

        Assert.Null(store.GetPeerRecordEnvelope(_peer));
        Assert.Empty(store.GetAddresses(_peer));
        Assert.False(store.ConsumePeerRecord(_peer, 7, [TcpAt(1)], new byte[] { 7 }, TimeSpan.FromMinutes(10)));
        Assert.True(store.ConsumePeerRecord(_peer, 8, [TcpAt(1)], new byte[] { 8 }, TimeSpan.FromMinutes(10)));

        Assert.Throws<ArgumentException>(() => store.ConsumePeerRecord(_peer, 9, [], ReadOnlyMemory<byte>.Empty, TimeSpan.FromMinutes(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ConsumePeerRecord(_peer, 9, [], new byte[] { 9 }, TimeSpan.Zero));
    }

    [Fact]
    public async Task Parallel_writers_and_readers_leave_every_peer_consistent()
    {
        var store = NewStore();
        var peers = NewPeers(20);
        const int Workers = 8;
        const int PortsPerWorker = 6;

        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(() =>
        {
            for (var round = 0; round < 50; round++)
            {
                foreach (var peer in peers)
                {
                    store.AddAddresses(peer, [TcpAt((worker * PortsPerWorker) + (round % PortsPerWorker))], PeerStoreTtl.Permanent);
                    store.RecordLatency(peer, TimeSpan.FromMilliseconds(10 + worker));
                    store.SetProtocols(peer, [$"/worker/{worker}"]);
                    store.SetMetadata(peer, "agent", $"worker {worker}");
                    Assert.InRange(store.GetAddresses(peer).Count, 1, Workers * PortsPerWorker);
                    Assert.Single(store.GetProtocols(peer));
                }

                Assert.InRange(store.Peers.Count, 1, peers.Length);
                store.Prune();
            }
        })));

        var expected = Enumerable.Range(0, Workers * PortsPerWorker).Select(TcpAt).ToHashSet();
        foreach (var peer in peers)
        {
            Assert.True(expected.SetEquals(store.GetAddresses(peer)));
            Assert.InRange(store.GetLatency(peer)!.Value, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10 + Workers - 1));
            Assert.StartsWith("/worker/", Assert.Single(store.GetProtocols(peer)), StringComparison.Ordinal);
        }

        Assert.Equal(peers.Order(), store.Peers.Order());
    }

    [Fact]
    public async Task Parallel_writers_over_the_peer_bound_never_exceed_it_or_mix_up_peers()
    {
        var store = NewStore(new PeerStoreOptions { MaxPeers = 16 });
        var peers = NewPeers(100);
        var ports = peers.Select((peer, index) => (peer, index)).ToDictionary(pair => pair.peer, pair => pair.index);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 400; i++)
            {
                var peer = peers[((i * 7) + (worker * 13)) % peers.Length];
                Multiaddr[] own = [TcpAt(ports[peer]), TcpAt(1000 + ports[peer])];
                store.AddAddresses(peer, own, PeerStoreTtl.Permanent);
                Assert.InRange(store.Count, 0, 16);
                var seen = store.GetAddresses(peer);
                Assert.True(seen.Count == 0 || seen.SequenceEqual(own), $"{peer} has {string.Join(", ", seen)}");
            }
        })));

        Assert.InRange(store.Count, 1, 16);
        foreach (var peer in store.Peers)
        {
            Assert.Equal([TcpAt(ports[peer]), TcpAt(1000 + ports[peer])], store.GetAddresses(peer));
        }
    }
}
