using System.Buffers;
using System.Text;
using System.Text.Json;
using ToolNet.Fuzz;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Kademlia;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Kademlia;

public class KadCodecTests
{
    private static readonly JsonElement Vectors = VectorFile.Json("kademlia", "kad-messages.json");

    private static readonly byte[] ProviderKey = Cid.Parse(Vectors.GetProperty("cid").GetString()!).Hash.Bytes.ToArray();

    public static TheoryData<string> VectorNames() =>
        [.. Vectors.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];

    /// <summary>Each go message, built from its description with our types: our encoding is go's, byte for byte.</summary>
    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Our_encoding_of_each_go_message_is_byte_identical(string name)
    {
        var vector = Find(name);
        var message = Build(name);
        Assert.Equal(vector.GetProperty("message_hex").GetString(), Convert.ToHexStringLower(KadCodec.ToBytes(message)));
        var framed = new ArrayBufferWriter<byte>();
        KadCodec.WriteDelimited(message, framed);
        Assert.Equal(vector.GetProperty("framed_hex").GetString(), Convert.ToHexStringLower(framed.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Each_go_message_decodes_to_its_fields_and_re_encodes_identically(string name)
    {
        var vector = Find(name);
        var body = vector.GetProperty("message_hex").Hex();
        var decoded = KadCodec.Decode(body);
        var expected = Build(name);
        Assert.Equal(expected.Type, decoded.Type);
        Assert.Equal(expected.Key.ToArray(), decoded.Key.ToArray());
        Assert.Equal(expected.Record?.Value.ToArray(), decoded.Record?.Value.ToArray());
        Assert.Equal(expected.CloserPeers.Select(p => p.Connection), decoded.CloserPeers.Select(p => p.Connection));
        Assert.Equal(expected.ProviderPeers.Count, decoded.ProviderPeers.Count);
        Assert.Equal(body, KadCodec.ToBytes(decoded));

        // The framed form, fed one byte at a time: nothing until the last byte, then the message.
        var framed = vector.GetProperty("framed_hex").Hex();
        for (var cut = 0; cut < framed.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(framed, 0, cut);
            Assert.False(KadCodec.TryReadDelimited(ref partial, out _));
            Assert.Equal(cut, partial.Length);
        }

        var whole = new ReadOnlySequence<byte>(framed);
        Assert.True(KadCodec.TryReadDelimited(ref whole, out var read));
        Assert.True(whole.IsEmpty);
        Assert.Equal(body, KadCodec.ToBytes(read));
    }

    [Fact]
    public void Several_messages_on_one_stream_are_read_one_after_another_across_segments()
    {
        var writer = new ArrayBufferWriter<byte>();
        KadCodec.WriteDelimited(Build("FIND_NODE request"), writer);
        KadCodec.WriteDelimited(Build("PING"), writer);
        KadCodec.WriteDelimited(Build("GET_VALUE response"), writer);
        var buffer = SegmentedSequence.Create(writer.WrittenSpan.ToArray(), segmentLength: 7);
        var types = new List<KadMessageType>();
        while (KadCodec.TryReadDelimited(ref buffer, out var message))
        {
            types.Add(message.Type);
        }

        Assert.Equal([KadMessageType.FindNode, KadMessageType.Ping, KadMessageType.GetValue], types);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void An_oversized_length_prefix_is_refused_before_its_body_arrives()
    {
        var prefix = Varint.Encode(KadCodec.MaxMessageLength + 1);
        var buffer = new ReadOnlySequence<byte>(prefix);
        var error = Assert.Throws<WireFormatException>(() => KadCodec.TryReadDelimited(ref buffer, out _));
        Assert.Contains("exceeds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bounds_are_enforced_while_decoding()
    {
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode(Field(2, new byte[KadCodec.MaxKeyLength + 1]))));
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode(Field(3, Field(2, new byte[KadCodec.MaxRecordValueLength + 1])))));
        var peer = Field(8, Field(1, [0x00, 0x01, 0x02]));
        var tooManyPeers = Enumerable.Repeat(peer, KadCodec.MaxPeersPerList + 1).SelectMany(p => p).ToArray();
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode(tooManyPeers)));
        Assert.Equal(KadCodec.MaxPeersPerList, KadCodec.Decode(tooManyPeers.AsSpan(peer.Length)).CloserPeers.Count);
        var address = Field(2, Convert.FromHexString("047f000001060fa1"));
        var tooManyAddresses = Field(9, [.. Enumerable.Repeat(address, KadCodec.MaxAddressesPerPeer + 1).SelectMany(a => a)]);
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode(tooManyAddresses)));
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode(Field(3, Field(5, [0xff, 0xfe])))));
        Assert.True(WireFormatAssert.Rejects(() => KadCodec.Decode([0x08])));
    }

    [Fact]
    public void Unknown_fields_are_skipped_and_unknown_enum_values_kept()
    {
        byte[] body = [0x08, 0x2a, 0x38, 0x07, 0x62, 0x01, 0xff];
        var message = KadCodec.Decode(body);
        Assert.Equal((KadMessageType)42, message.Type);
        Assert.Equal(0, message.ClusterLevelRaw);
    }

    [Fact]
    public void A_message_over_a_bound_is_refused_when_written()
    {
        var message = new KadMessage { Type = KadMessageType.PutValue, Key = new byte[KadCodec.MaxKeyLength + 1] };
        Assert.Throws<ArgumentException>(() => KadCodec.WriteDelimited(message, new ArrayBufferWriter<byte>()));
    }

    private static JsonElement Find(string name) =>
        Vectors.GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("name").GetString() == name);

    private static PeerId Seed(int n) => PeerId.Parse(Vectors.GetProperty("peers").GetProperty($"seed-{n}").GetString()!);

    private static KadPeer Peer(int seed, KadConnectionType connection, params string[] addresses) => new()
    {
        Id = Seed(seed).ToBytes(),
        Addresses = [.. addresses.Select(a => (ReadOnlyMemory<byte>)Multiaddr.Parse(a).ToBytes())],
        Connection = connection,
    };

    /// <summary>The message each vector's description names.</summary>
    private static KadMessage Build(string name)
    {
        const string Tcp4001 = "/ip4/127.0.0.1/tcp/4001";
        const string Ws4002 = "/ip4/127.0.0.1/tcp/4002/ws";
        var recordKey = Encoding.UTF8.GetBytes("/tn/hello");
        var record = new KadRecord { Key = recordKey, Value = "world"u8.ToArray() };
        var findNodeKey = Seed(3).ToBytes();
        return name switch
        {
            "FIND_NODE request" => new KadMessage { Type = KadMessageType.FindNode, Key = findNodeKey },
            "FIND_NODE response" => new KadMessage
            {
                Type = KadMessageType.FindNode,
                Key = findNodeKey,
                CloserPeers = [Peer(1, KadConnectionType.Connected, Tcp4001, Ws4002), Peer(2, KadConnectionType.Connected, "/ip6/::1/tcp/4001")],
            },
            "GET_PROVIDERS request" => new KadMessage { Type = KadMessageType.GetProviders, Key = ProviderKey },
            "GET_PROVIDERS response" => new KadMessage
            {
                Type = KadMessageType.GetProviders,
                Key = ProviderKey,
                CloserPeers = [Peer(2, KadConnectionType.CanConnect, "/ip4/127.0.0.1/tcp/4002")],
                ProviderPeers = [Peer(1, KadConnectionType.NotConnected, Tcp4001)],
            },
            "ADD_PROVIDER" => new KadMessage
            {
                Type = KadMessageType.AddProvider,
                Key = ProviderKey,
                ProviderPeers = [Peer(1, KadConnectionType.NotConnected, Tcp4001, Ws4002)],
            },
            "PUT_VALUE" => new KadMessage { Type = KadMessageType.PutValue, Key = recordKey, Record = record },
            "GET_VALUE request" => new KadMessage { Type = KadMessageType.GetValue, Key = recordKey },
            "GET_VALUE response" => new KadMessage
            {
                Type = KadMessageType.GetValue,
                Key = recordKey,
                Record = record,
                CloserPeers = [Peer(2, KadConnectionType.Connected, "/ip4/127.0.0.1/tcp/4002")],
            },
            "PING" => new KadMessage { Type = KadMessageType.Ping },
            _ => throw new ArgumentException($"no message for vector {name}", nameof(name)),
        };
    }

    private static byte[] Field(int number, byte[] contents) =>
        [.. Varint.Encode((ulong)((number << 3) | 2)), .. Varint.Encode((ulong)contents.Length), .. contents];
}
