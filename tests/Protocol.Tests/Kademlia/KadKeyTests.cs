using System.Text.Json;
using ToolNet.Protocol.Kademlia;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Kademlia;

public class KadKeyTests
{
    private static readonly JsonElement Vectors = VectorFile.Json("kademlia", "kademlia-xor-vectors.json");

    [Fact]
    public void Leading_zero_bits_match_go_kbucket()
    {
        foreach (var item in Vectors.GetProperty("zero_prefix_len_cases").EnumerateArray())
        {
            // The go cases are 7 bytes; padding with ones keeps the count for all but the all-zero case, which counts
            // every byte it has.
            var bytes = item.GetProperty("bytes_hex").Hex();
            var padded = bytes.Concat(Enumerable.Repeat((byte)0xff, 32 - bytes.Length)).ToArray();
            Assert.Equal(item.GetProperty("zero_prefix_len").GetInt32(), KadKey.FromHash(padded).LeadingZeroBits());
        }
    }

    [Fact]
    public void Sorting_by_xor_distance_matches_go_kbucket()
    {
        var sorting = Vectors.GetProperty("sorting_case");
        var keys = sorting.GetProperty("keys_hex").EnumerateArray().Select(k => KadKey.FromHash(k.Hex())).ToArray();
        var target = keys[sorting.GetProperty("target_index").GetInt32()];
        var order = Enumerable.Range(0, keys.Length).OrderBy(i => keys[i], Comparer<KadKey>.Create(target.CompareDistance)).ToArray();
        Assert.Equal(sorting.GetProperty("expected_order").EnumerateArray().Select(e => e.GetInt32()), order);
    }

    [Fact]
    public void Peer_keys_distances_and_prefix_lengths_match_the_derived_vectors()
    {
        var derived = Vectors.GetProperty("derived_peer_keys");
        var keys = new Dictionary<string, KadKey>();
        foreach (var peer in derived.GetProperty("peers").EnumerateArray())
        {
            var id = PeerId.FromBytes(peer.GetProperty("peer_id_multihash_hex").Hex());
            var key = KadKey.FromPeerId(id);
            Assert.Equal(peer.GetProperty("kad_key_hex").GetString(), key.ToString());
            keys[peer.GetProperty("key_type").GetString()!] = key;
        }

        foreach (var pair in derived.GetProperty("pairs").EnumerateArray())
        {
            var a = keys[pair.GetProperty("a").GetString()!];
            var b = keys[pair.GetProperty("b").GetString()!];
            Assert.Equal(pair.GetProperty("xor_distance_hex").GetString(), a.Xor(b).ToString());
            Assert.Equal(pair.GetProperty("common_prefix_len").GetInt32(), a.CommonPrefixLength(b));
        }

        var cid = Vectors.GetProperty("derived_cid_key_example");
        Assert.Equal(cid.GetProperty("kad_key_hex").GetString(), KadKey.FromKeyBytes(cid.GetProperty("multihash_hex").Hex()).ToString());
    }
}
