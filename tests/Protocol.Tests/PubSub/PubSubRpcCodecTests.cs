using System.Buffers;
using System.Text;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.PubSub;

namespace ToolNet.Protocol.Tests.PubSub;

public sealed class PubSubRpcCodecTests
{
    private static MessageId Id(string text) => new(Encoding.ASCII.GetBytes(text));

    private static PubSubRpc FullRpc() => new()
    {
        Subscriptions = [new SubscriptionChange(true, "a"), new SubscriptionChange(false, "b")],
        Messages =
        [
            new PubSubMessage { From = [0, 1], Data = [], Seqno = [0, 0, 0, 0, 0, 0, 0, 7], Topic = "a", Signature = [9, 9], Key = [8] },
            new PubSubMessage { Topic = "b", Data = [1, 2, 3] },
        ],
        Control = new ControlMessage
        {
            IHave = [new ControlIHave("a", [Id("m1"), Id("m2")])],
            IWant = [new ControlIWant([Id("m3")])],
            Graft = [new ControlGraft("a")],
            Prune = [new ControlPrune("b", [new PeerExchangeInfo([1, 2], [3]), new PeerExchangeInfo([4], null)], 60)],
            IDontWant = [new ControlIDontWant([Id("m4")])],
        },
    };

    [Fact]
    public void A_subscription_encodes_as_rpc_proto_says()
    {
        // RPC.subscriptions (1) { subscribe (1) = true, topicid (2) = "t" }
        var bytes = PubSubRpcCodec.ToBytes(new PubSubRpc { Subscriptions = [new SubscriptionChange(true, "t")] });
        Assert.Equal(Convert.FromHexString("0a05080112017" + "4"), bytes);
    }

    [Fact]
    public void Control_encodes_as_rpc_proto_says()
    {
        // RPC.control (3) { graft (3) { topicID (1) = "t" }, prune (4) { topicID = "t", backoff (3) = 60 }, idontwant (5) { messageIDs (1) = "x" } }
        var bytes = PubSubRpcCodec.ToBytes(new PubSubRpc
        {
            Control = new ControlMessage
            {
                Graft = [new ControlGraft("t")],
                Prune = [new ControlPrune("t", [], 60)],
                IDontWant = [new ControlIDontWant([Id("x")])],
            },
        });
        Assert.Equal(Convert.FromHexString("1a11" + "1a030a0174" + "22050a0174183c" + "2a030a0178"), bytes);
    }

    [Fact]
    public void Every_field_round_trips_and_presence_is_kept()
    {
        var rpc = FullRpc();
        var decoded = PubSubRpcCodec.Decode(PubSubRpcCodec.ToBytes(rpc));
        Assert.True(decoded.HasSameFields(rpc));
        Assert.NotNull(decoded.Messages[0].Data);
        Assert.Empty(decoded.Messages[0].Data!);
        Assert.Null(decoded.Messages[1].From);
        Assert.Equal(PubSubRpcCodec.ToBytes(rpc), PubSubRpcCodec.ToBytes(decoded));
    }

    [Fact]
    public void Delimited_reading_waits_for_the_whole_body_and_consumes_exactly_one()
    {
        var writer = new ArrayBufferWriter<byte>();
        PubSubRpcCodec.WriteDelimited(FullRpc(), writer, PubSubRpcLimits.Default.MaxRpcLength);
        PubSubRpcCodec.WriteDelimited(PubSubRpc.Empty with { Subscriptions = [new SubscriptionChange(true, "z")] }, writer, PubSubRpcLimits.Default.MaxRpcLength);
        var all = writer.WrittenMemory;
        var firstLength = all.Length - 8; // the second: a 1-byte prefix and 0a 05 08 01 12 01 7a
        for (var cut = 0; cut < all.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(all[..cut]);
            var ok = PubSubRpcCodec.TryReadDelimited(ref partial, null, out var first);
            Assert.Equal(cut >= firstLength, ok);
            Assert.Equal(ok, first is not null);
        }

        var buffer = new ReadOnlySequence<byte>(all);
        Assert.True(PubSubRpcCodec.TryReadDelimited(ref buffer, null, out var one));
        Assert.True(one.HasSameFields(FullRpc()));
        Assert.True(PubSubRpcCodec.TryReadDelimited(ref buffer, null, out var two));
        Assert.Equal("z", two.Subscriptions.Single().Topic);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void An_oversized_length_prefix_is_refused_before_the_body_arrives()
    {
        var prefix = new byte[Varint.MaxLength];
        var length = Varint.Write(prefix, 1024 * 1024 + 1);
        var buffer = new ReadOnlySequence<byte>(prefix[..length]);
        Assert.Throws<WireFormatException>(() => PubSubRpcCodec.TryReadDelimited(ref buffer, null, out _));
    }

    [Fact]
    public void Counts_are_bounded_while_decoding()
    {
        var limits = new PubSubRpcLimits { MaxMessageIds = 3, MaxSubscriptions = 2, MaxControlEntries = 2, MaxPeerExchangePeers = 1 };
        var manyIds = new PubSubRpc { Control = new ControlMessage { IWant = [new ControlIWant([Id("1"), Id("2"), Id("3"), Id("4")])] } };
        var manySubscriptions = new PubSubRpc { Subscriptions = [new(true, "a"), new(true, "b"), new(true, "c")] };
        var manyEntries = new PubSubRpc { Control = new ControlMessage { Graft = [new("a"), new("b"), new("c")] } };
        var manyPeers = new PubSubRpc { Control = new ControlMessage { Prune = [new ControlPrune("a", [new([1], null), new([2], null)], null)] } };
        foreach (var rpc in new[] { manyIds, manySubscriptions, manyEntries, manyPeers })
        {
            var error = Assert.Throws<WireFormatException>(() => PubSubRpcCodec.Decode(PubSubRpcCodec.ToBytes(rpc), limits));
            Assert.Contains("more than", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("12020a00", "a message without a topic")]
    [InlineData("0a020801", "a subscription without a topic")]
    [InlineData("12062201ff220161", "message topic is not valid UTF-8")]
    [InlineData("1204220161", "claims")]
    public void Malformed_rpcs_are_refused(string hex, string reason)
    {
        var error = Assert.Throws<WireFormatException>(() => PubSubRpcCodec.Decode(Convert.FromHexString(hex)));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(KeyType.Ed25519)]
    [InlineData(KeyType.Secp256k1)]
    [InlineData(KeyType.ECDSA)]
    public void A_signed_message_verifies_and_a_changed_one_does_not(KeyType keyType)
    {
        var key = PrivateKey.Generate(keyType);
        var signed = MessageSigning.Sign(new PubSubMessage { Topic = "t", Data = [1, 2, 3], Seqno = [0, 0, 0, 0, 0, 0, 0, 1] }, key);
        Assert.Equal(PeerId.FromPublicKey(key.GetPublicKey()).ToBytes(), signed.From);
        Assert.Equal(PeerId.FromBytes(signed.From!).HasInlinePublicKey, signed.Key is null);
        Assert.Equal(SignatureCheck.Valid, MessageSigning.Verify(signed));

        // What travels is what was signed: decoding the wire form verifies too.
        var received = PubSubRpcCodec.Decode(PubSubRpcCodec.ToBytes(new PubSubRpc { Messages = [signed] })).Messages.Single();
        Assert.Equal(SignatureCheck.Valid, MessageSigning.Verify(received));

        Assert.Equal(SignatureCheck.BadSignature, MessageSigning.Verify(signed with { Data = [1, 2, 4] }));
        Assert.Equal(SignatureCheck.BadSignature, MessageSigning.Verify(signed with { Topic = "u" }));
        Assert.Equal(SignatureCheck.BadSignature, MessageSigning.Verify(signed with { Data = null }));
        Assert.Equal(SignatureCheck.Unsigned, MessageSigning.Verify(signed with { Signature = null }));
        Assert.Equal(SignatureCheck.Unsigned, MessageSigning.Verify(signed with { Seqno = null }));
        var other = PrivateKey.Generate(KeyType.Secp256k1).GetPublicKey().ToProtobuf();
        Assert.Equal(SignatureCheck.KeyMismatch, MessageSigning.Verify(signed with { Key = other }));
        Assert.Equal(SignatureCheck.InvalidAuthor, MessageSigning.Verify(signed with { From = [1, 2, 3] }));
    }

    [Fact]
    public void The_signature_covers_the_prefix_and_the_message_without_signature_and_key()
    {
        var message = new PubSubMessage { From = [1], Data = [2], Seqno = [3], Topic = "t", Signature = [4], Key = [5] };
        Assert.Equal(
            [.. "libp2p-pubsub:"u8, .. Convert.FromHexString("0a0101120102" + "1a0103" + "220174")],
            PubSubRpcCodec.GetSignedBytes(message));
    }
}
