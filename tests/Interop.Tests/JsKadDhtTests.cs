using System.Text.Json.Nodes;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Kademlia;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>
/// A mixed DHT on loopback: 3 ToolNet nodes and 3 js-libp2p nodes (@libp2p/kad-dht 16.4.5, server mode) on
/// <c>/ipfs/kad/1.0.0</c>, joined through the first ToolNet node and one js node.
/// </summary>
public sealed class MixedDhtNetwork : IAsyncLifetime
{
    public const int Size = 3;

    internal List<CSharpNode> CSharp { get; } = [];

    internal List<KadService> Dhts { get; } = [];

    internal List<JsPeer> Js { get; } = [];

    public static KadOptions Options { get; } = new()
    {
        ProtocolId = KadOptions.IpfsProtocolId,
        RequestTimeout = TimeSpan.FromSeconds(20),
        QueryTimeout = TimeSpan.FromSeconds(60),
    };

    public async Task InitializeAsync()
    {
        using var deadline = Wait.Deadline(180);
        for (var i = 0; i < Size; i++)
        {
            Js.Add(await JsPeer.StartAsync("--dht", KadOptions.IpfsProtocolId, "--quiet-events"));
            var node = await CSharpNode.StartAsync(null, deadline.Token);
            CSharp.Add(node);
            Dhts.Add(new KadService(node.Host, Options, identify: node.Services.Identify));
        }

        // js nodes join through our first node; ours through it and the first js node.
        var ourEntry = CSharp[0].Address(Transport.Tcp).ToString();
        foreach (var js in Js)
        {
            await js.CommandAsync("dial", new { addr = ourEntry }, deadline.Token);
        }

        await Dhts[0].StartAsync([Multiaddr.Parse(Js[0].TcpAddress)], deadline.Token);
        for (var i = 1; i < Size; i++)
        {
            await Dhts[i].StartAsync([CSharp[0].Address(Transport.Tcp), Multiaddr.Parse(Js[0].TcpAddress)], deadline.Token);
        }

        // A second round of self-lookups, now that every node is in somebody's table.
        foreach (var dht in Dhts)
        {
            await dht.BootstrapAsync([], deadline.Token);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var dht in Dhts)
        {
            await dht.DisposeAsync();
        }

        foreach (var node in CSharp)
        {
            await node.DisposeAsync();
        }

        foreach (var js in Js)
        {
            await js.DisposeAsync();
        }
    }
}

/// <summary>The DHT against js-libp2p's kad-dht: tables, providers, peers and records across both implementations.</summary>
public sealed class JsKadDhtTests(MixedDhtNetwork network, ITestOutputHelper output) : IClassFixture<MixedDhtNetwork>
{
    [Fact]
    public async Task Routing_tables_fill_across_both_implementations()
    {
        using var deadline = Wait.Deadline(120);
        var jsIds = network.Js.Select(j => j.PeerId).ToHashSet();
        var ourIds = network.CSharp.Select(n => n.Host.PeerId.ToString()).ToHashSet();
        foreach (var dht in network.Dhts)
        {
            var table = dht.RoutingTable.Snapshot().Select(e => e.Entry.Peer.ToString()).ToHashSet();
            output.WriteLine($"ours: {table.Count} peers, {table.Count(jsIds.Contains)} js");
            Assert.True(table.Count(jsIds.Contains) >= 2, "our table holds fewer than 2 js peers");
            Assert.True(table.Any(ourIds.Contains), "our table holds none of our other nodes");
        }

        foreach (var js in network.Js)
        {
            await Wait.UntilAsync(
                async () => (await TableAsync(js, deadline.Token)).Count(ourIds.Contains) >= 2,
                $"js {js.PeerId} to hold 2 of our nodes in its routing table",
                deadline.Token);
        }
    }

    [Fact]
    public async Task A_provider_announced_by_js_is_found_by_us()
    {
        using var deadline = Wait.Deadline(120);
        var cid = Cid.CreateV1(MulticodecCode.Raw, Multihash.Compute(MultihashCode.Sha2_256, "announced by js"u8));
        var provider = network.Js[1];
        await provider.CommandAsync("dhtProvide", new { cid = cid.ToString() }, deadline.Token);

        var found = new List<ProviderEntry>();
        await foreach (var entry in network.Dhts[2].FindProvidersAsync(cid.Hash.Bytes.ToArray(), limit: 1, deadline.Token))
        {
            found.Add(entry);
        }

        var only = Assert.Single(found);
        Assert.Equal(provider.PeerId, only.Provider.ToString());
        Assert.Contains(only.Addresses, a => provider.TcpAddress.StartsWith(a.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_provider_announced_by_us_is_found_by_js()
    {
        using var deadline = Wait.Deadline(120);
        var cid = Cid.CreateV1(MulticodecCode.Raw, Multihash.Compute(MultihashCode.Sha2_256, "announced by ToolNet"u8));
        var provider = network.CSharp[1];
        Assert.True(await network.Dhts[1].ProvideAsync(cid.Hash.Bytes.ToArray(), deadline.Token) > 0);

        var reply = await network.Js[2].CommandAsync("dhtFindProviders", new { cid = cid.ToString(), limit = 1 }, deadline.Token);
        var only = Assert.Single(reply["providers"]!.AsArray());
        Assert.Equal(provider.Host.PeerId.ToString(), only!["peerId"]!.GetValue<string>());
        Assert.Contains(
            provider.Host.ListenAddresses.Select(a => a.ToString()),
            a => only["addrs"]!.AsArray().Select(x => x!.GetValue<string>()).Any(x => x.StartsWith(a, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Find_peer_works_both_ways()
    {
        using var deadline = Wait.Deadline(120);
        // We look up a js node; js looks up one of ours. Both answers carry the listen addresses. Our seeker is
        // disconnected from the sought node and forgets what it knew of it, so the addresses come from the DHT.
        var soughtJs = network.Js[2];
        var soughtJsId = PeerId.Parse(soughtJs.PeerId);
        var seeker = network.CSharp[1].Host;
        foreach (var connection in seeker.GetConnections(soughtJsId))
        {
            await connection.CloseAsync(deadline.Token);
        }

        seeker.PeerStore.RemovePeer(soughtJsId);
        Assert.Empty(seeker.PeerStore.GetAddresses(soughtJsId));
        var addresses = await network.Dhts[1].FindPeerAsync(soughtJsId, deadline.Token);
        Assert.Contains(addresses, a => soughtJs.TcpAddress.StartsWith(a.ToString(), StringComparison.Ordinal));

        var soughtOurs = network.CSharp[2].Host;
        var reply = await network.Js[0].CommandAsync("dhtFindPeer", new { peerId = soughtOurs.PeerId.ToString() }, deadline.Token);
        Assert.True(reply["found"]!.GetValue<bool>(), reply.ToJsonString());
        var found = reply["addrs"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Contains(soughtOurs.ListenAddresses[0].ToString(), found.Select(a => Multiaddr.Parse(a).WithoutPeerId().ToString()));
    }

    [Fact]
    public async Task Public_key_records_are_got_across_both_ways()
    {
        using var deadline = Wait.Deadline(120);

        // Ours, put by us (an RSA key: its peer id is a hash, so the key is not inline and the record matters).
        var rsa = PrivateKey.Generate(KeyType.RSA);
        var rsaId = PeerId.FromPublicKey(rsa.GetPublicKey());
        var ourKey = PublicKeyValidator.KeyFor(rsaId);
        Assert.True(await network.Dhts[0].PutValueAsync(ourKey, rsa.GetPublicKey().ToProtobuf(), deadline.Token) > 0);
        var got = await network.Js[1].CommandAsync("dhtGet", new { key = Convert.ToHexStringLower(ourKey) }, deadline.Token);
        Assert.True(got["found"]!.GetValue<bool>(), got.ToJsonString());
        Assert.Equal(Convert.ToHexStringLower(rsa.GetPublicKey().ToProtobuf()), got["value"]!.GetValue<string>());

        // js's, put by js and got by us.
        var rsa2 = PrivateKey.Generate(KeyType.RSA);
        var jsKey = PublicKeyValidator.KeyFor(PeerId.FromPublicKey(rsa2.GetPublicKey()));
        await network.Js[2].CommandAsync("dhtPut", new { key = Convert.ToHexStringLower(jsKey), value = Convert.ToHexStringLower(rsa2.GetPublicKey().ToProtobuf()) }, deadline.Token);
        var value = await network.Dhts[2].GetValueAsync(jsKey, deadline.Token);
        Assert.Equal(rsa2.GetPublicKey().ToProtobuf(), value);
    }

    [Fact]
    public async Task A_record_that_fails_validation_is_refused_by_both()
    {
        using var deadline = Wait.Deadline(120);
        var victim = PeerId.FromPublicKey(PrivateKey.Generate(KeyType.RSA).GetPublicKey());
        var key = PublicKeyValidator.KeyFor(victim);
        var wrongValue = PrivateKey.Generate(KeyType.Ed25519).GetPublicKey().ToProtobuf();

        // js sends it to the closest peers, ours among them: every one refuses it.
        var put = await network.Js[0].CommandAsync(
            "dhtPut", new { key = Convert.ToHexStringLower(key), value = Convert.ToHexStringLower(wrongValue) }, deadline.Token);
        output.WriteLine(put.ToJsonString());
        Assert.Empty(put["storedAt"]!.AsArray());
        var ourIds = network.CSharp.Select(n => n.Host.PeerId.ToString()).ToHashSet();
        Assert.Contains(put["refusedBy"]!.AsArray(), r => ourIds.Contains(r!["peerId"]!.GetValue<string>()));

        // … and when we send it to a js server directly, js does not store or echo it.
        var target = network.Js[1];
        var echoed = await RawPutAsync(network.CSharp[0], PeerId.Parse(target.PeerId), key, wrongValue, deadline.Token);
        Assert.False(echoed);
        var got = await network.Js[2].CommandAsync("dhtGet", new { key = Convert.ToHexStringLower(key) }, deadline.Token);
        Assert.False(got["found"]!.GetValue<bool>());

        // We refuse it too: locally, and at a server of ours when it comes over the wire.
        await Assert.ThrowsAsync<RecordValidationException>(() => network.Dhts[0].PutValueAsync(key, wrongValue, deadline.Token));
        var refusedBefore = network.Dhts[2].Counters.RecordsRefused;
        Assert.False(await RawPutAsync(network.CSharp[1], network.CSharp[2].Host.PeerId, key, wrongValue, deadline.Token));
        Assert.Equal(refusedBefore + 1, network.Dhts[2].Counters.RecordsRefused);
    }

    private static async Task<List<string>> TableAsync(JsPeer js, CancellationToken cancellationToken) =>
        [.. (await js.CommandAsync("dhtTable", null, cancellationToken))["peers"]!.AsArray().Select(p => p!.GetValue<string>())];

    /// <summary>Sends one PUT_VALUE straight to <paramref name="to"/> and reports whether it was echoed (accepted).</summary>
    private static async Task<bool> RawPutAsync(CSharpNode from, PeerId to, byte[] key, byte[] value, CancellationToken cancellationToken)
    {
        var stream = await from.Host.NewStreamAsync(to, [KadOptions.IpfsProtocolId], cancellationToken);
        await using (stream)
        {
            var request = new KadMessage { Type = KadMessageType.PutValue, Key = key, Record = new KadRecord { Key = key, Value = value } };
            KadCodec.WriteDelimited(request, stream.Output);
            await stream.Output.FlushAsync(cancellationToken);
            try
            {
                var read = await stream.Input.ReadAsync(cancellationToken);
                var buffer = read.Buffer;
                var echoed = KadCodec.TryReadDelimited(ref buffer, out var response) && response.Record is not null;
                stream.Input.AdvanceTo(read.Buffer.End);
                return echoed;
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
