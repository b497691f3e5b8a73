using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Tests.Addressing;

namespace ToolNet.Protocol.Tests.Identify;

[Properties(Arbitrary = [typeof(IdentifyArbitraries)], MaxTest = 200)]
public class IdentifyCodecTests
{
    /// <summary>Every field, hand-encoded with the spec's field numbers, in an order other than ours.</summary>
    private static readonly byte[] HandEncoded =
    [
        0x2a, 0x0a, .. "ipfs/0.1.0"u8,             // protocolVersion = 5
        0x32, 0x10, .. "js-libp2p/3.3.11"u8,      // agentVersion = 6
        0x0a, 0x03, 0x08, 0x01, 0x12,              // publicKey = 1 (raw bytes; not checked by the codec)
        0x12, 0x08, 0x04, 0x7f, 0x00, 0x00, 0x01, 0x06, 0x0f, 0xa1, // listenAddrs = 2: /ip4/127.0.0.1/tcp/4001
        0x22, 0x02, 0x01, 0x02,                    // observedAddr = 4
        0x1a, 0x0e, .. "/ipfs/id/1.0.0"u8,         // protocols = 3
        0x1a, 0x10, .. "/ipfs/ping/1.0.0"u8,       // protocols = 3
        0x42, 0x01, 0xee,                          // signedPeerRecord = 8
    ];

    [Fact]
    public void Decodes_every_field_by_its_spec_number()
    {
        var message = IdentifyCodec.Decode(HandEncoded);
        Assert.Equal("ipfs/0.1.0", message.ProtocolVersion);
        Assert.Equal("js-libp2p/3.3.11", message.AgentVersion);
        Assert.Equal([0x08, 0x01, 0x12], message.PublicKey);
        Assert.Equal(Convert.FromHexString("047f000001060fa1"), Assert.Single(message.ListenAddresses));
        Assert.Equal([0x01, 0x02], message.ObservedAddress);
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], message.Protocols);
        Assert.Equal([0xee], message.SignedPeerRecord);
    }

    [Fact]
    public void Encodes_fields_in_number_order()
    {
        var encoded = IdentifyCodec.ToBytes(IdentifyCodec.Decode(HandEncoded));
        var tags = new List<byte>();
        for (var offset = 0; offset < encoded.Length; offset += 2 + encoded[offset + 1])
        {
            tags.Add(encoded[offset]);
        }

        Assert.Equal([0x0a, 0x12, 0x1a, 0x1a, 0x22, 0x2a, 0x32, 0x42], tags);
        Assert.True(IdentifyCodec.Decode(encoded).HasSameFields(IdentifyCodec.Decode(HandEncoded)));
    }

    [Fact]
    public void Skips_unknown_fields()
    {
        byte[] withUnknown = [0x3a, 0x03, .. "abc"u8, 0x48, 0x96, 0x01, .. HandEncoded, 0x55, 1, 2, 3, 4, 0x59, 1, 2, 3, 4, 5, 6, 7, 8];
        Assert.True(IdentifyCodec.Decode(withUnknown).HasSameFields(IdentifyCodec.Decode(HandEncoded)));
    }

    [Fact]
    public void Absent_and_empty_optional_fields_stay_distinct()
    {
        var empty = new IdentifyMessage { AgentVersion = "", PublicKey = [], SignedPeerRecord = [] };
        var decoded = IdentifyCodec.Decode(IdentifyCodec.ToBytes(empty));
        Assert.Equal("", decoded.AgentVersion);
        Assert.Null(decoded.ProtocolVersion);
        Assert.Equal([], decoded.PublicKey!);
        Assert.Null(decoded.ObservedAddress);
        Assert.Empty(IdentifyCodec.ToBytes(new IdentifyMessage()));
    }

    [Fact]
    public void Merging_replaces_present_fields_and_appends_repeated_ones()
    {
        var first = IdentifyCodec.Decode(IdentifyCodec.ToBytes(new IdentifyMessage
        {
            AgentVersion = "a/1",
            ProtocolVersion = "p/1",
            Protocols = ["/x"],
            ListenAddresses = [[1]],
        }));
        var merged = IdentifyCodec.Decode(IdentifyCodec.ToBytes(new IdentifyMessage { AgentVersion = "a/2", Protocols = ["/y"], SignedPeerRecord = [9] }), first);
        Assert.Equal("a/2", merged.AgentVersion);
        Assert.Equal("p/1", merged.ProtocolVersion);
        Assert.Equal(["/x", "/y"], merged.Protocols);
        Assert.Equal([[1]], merged.ListenAddresses);
        Assert.Equal([9], merged.SignedPeerRecord);
    }

    [Fact]
    public void Refuses_more_than_the_bounded_number_of_entries_even_across_merges()
    {
        var protocols = Enumerable.Range(0, IdentifyCodec.MaxProtocols).Select(i => $"/p/{i}").ToArray();
        var full = IdentifyCodec.Decode(IdentifyCodec.ToBytes(new IdentifyMessage { Protocols = protocols }));
        Assert.Equal(IdentifyCodec.MaxProtocols, full.Protocols.Count);
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.Decode(IdentifyCodec.ToBytes(new IdentifyMessage { Protocols = ["/one-more"] }), full));

        var addresses = Enumerable.Repeat<byte[]>([0x04, 1, 2, 3, 4], IdentifyCodec.MaxListenAddresses + 1).ToArray();
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.Decode(IdentifyCodec.ToBytes(new IdentifyMessage { ListenAddresses = addresses })));
    }

    [Theory]
    [InlineData(3, IdentifyCodec.MaxProtocolLength + 1)]
    [InlineData(5, IdentifyCodec.MaxVersionLength + 1)]
    [InlineData(6, IdentifyCodec.MaxVersionLength + 1)]
    [InlineData(2, 1025)]
    [InlineData(4, 1025)]
    [InlineData(1, (16 * 1024) + 1)]
    public void Refuses_an_entry_over_its_bound(int field, int length)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write([(byte)((field << 3) | 2)]);
        Varint.Write(buffer, (ulong)length);
        buffer.Write(Enumerable.Repeat((byte)'a', length).ToArray());
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.Decode(buffer.WrittenSpan));
    }

    [Theory]
    [InlineData("1a02c328")]       // protocols: invalid UTF-8
    [InlineData("2a01ff")]         // protocolVersion: invalid UTF-8
    [InlineData("1a05616263")]     // truncated entry
    [InlineData("10")]             // listenAddrs with varint wire type, truncated
    [InlineData("1001")]           // listenAddrs with varint wire type
    [InlineData("0b")]             // group wire type
    [InlineData("00")]             // field 0
    public void Rejects_malformed_messages_with_the_format_exception(string hex)
    {
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.Decode(Convert.FromHexString(hex)));
    }

    [Fact]
    public void An_oversized_length_prefix_is_refused_from_the_prefix_alone()
    {
        var prefix = Varint.Encode(IdentifyCodec.MaxMessageLength + 1);
        var buffer = new ReadOnlySequence<byte>(prefix);
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.TryReadDelimited(ref buffer, null, out _));
        Assert.ThrowsAny<WireFormatException>(() => IdentifyCodec.Decode(new byte[IdentifyCodec.MaxMessageLength + 1]));
    }

    [Fact]
    public void Delimited_reading_waits_for_the_whole_prefix_and_body()
    {
        var writer = new ArrayBufferWriter<byte>();
        IdentifyCodec.WriteDelimited(IdentifyCodec.Decode(HandEncoded), writer);
        var framed = writer.WrittenSpan.ToArray();
        for (var cut = 0; cut < framed.Length; cut++)
        {
            var partial = new ReadOnlySequence<byte>(framed, 0, cut);
            Assert.False(IdentifyCodec.TryReadDelimited(ref partial, null, out _));
            Assert.Equal(cut, partial.Length);
        }

        var whole = new ReadOnlySequence<byte>([.. framed, 0x07]);
        Assert.True(IdentifyCodec.TryReadDelimited(ref whole, null, out var message));
        Assert.True(message.HasSameFields(IdentifyCodec.Decode(HandEncoded)));
        Assert.Equal([0x07], whole.ToArray());
    }

    [Fact]
    public void Writing_refuses_a_message_peers_would_refuse()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentException>(() => IdentifyCodec.WriteDelimited(new IdentifyMessage { Protocols = [new string('a', IdentifyCodec.MaxProtocolLength + 1)] }, writer));
        Assert.Throws<ArgumentException>(() => IdentifyCodec.WriteDelimited(new IdentifyMessage { SignedPeerRecord = new byte[IdentifyCodec.MaxMessageLength] }, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Property]
    public void Messages_round_trip(IdentifyMessage message)
    {
        var encoded = IdentifyCodec.ToBytes(message);
        var decoded = IdentifyCodec.Decode(encoded);
        Assert.True(decoded.HasSameFields(message));
        Assert.Equal(encoded, IdentifyCodec.ToBytes(decoded));
    }

    [Property]
    public void Delimited_messages_round_trip_across_segment_boundaries(IdentifyMessage message, PositiveInt segmentLength)
    {
        var writer = new ArrayBufferWriter<byte>();
        IdentifyCodec.WriteDelimited(message, writer);
        var buffer = Segments.Split(writer.WrittenSpan.ToArray(), segmentLength.Get);
        Assert.True(IdentifyCodec.TryReadDelimited(ref buffer, null, out var decoded));
        Assert.True(decoded.HasSameFields(message));
        Assert.True(buffer.IsEmpty);
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes) =>
        WireFormatAssert.Rejects(() => IdentifyCodec.Decode(bytes));

    [Property]
    public void Mutated_messages_decode_or_throw_the_format_exception(IdentifyMessage message, Mutation mutation)
    {
        var mutated = mutation.Apply(IdentifyCodec.ToBytes(message), b => b);
        IdentifyMessage decoded;
        try
        {
            decoded = IdentifyCodec.Decode(mutated);
        }
        catch (WireFormatException)
        {
            return;
        }

        Assert.True(IdentifyCodec.Decode(IdentifyCodec.ToBytes(decoded)).HasSameFields(decoded));
    }
}

/// <summary>Generators of identify messages: any mix of present and absent fields, text from a UTF-8-rich alphabet.</summary>
public static class IdentifyArbitraries
{
    private static readonly Gen<byte[]> SmallBytes = Gen.Choose(0, 40).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), n));

    private static readonly Gen<string> Text = Gen.Choose(0, 30)
        .SelectMany(n => Gen.ArrayOf(Gen.Elements("/abcXYZ019.-_ é日🙂".EnumerateRunes().Select(r => r.ToString()).ToArray()), n))
        .Select(parts => string.Concat(parts));

    public static Arbitrary<IdentifyMessage> Messages() => Arb.From(
        from protocolVersion in Optional(Text)
        from agentVersion in Optional(Text)
        from publicKey in Optional(SmallBytes)
        from listen in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(SmallBytes, n))
        from observed in Optional(SmallBytes)
        from protocols in Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Text, n))
        from record in Optional(SmallBytes)
        select new IdentifyMessage
        {
            ProtocolVersion = protocolVersion,
            AgentVersion = agentVersion,
            PublicKey = publicKey,
            ListenAddresses = listen,
            ObservedAddress = observed,
            Protocols = protocols,
            SignedPeerRecord = record,
        });

    public static Arbitrary<Mutation> Mutations() => MultiaddrArbitraries.Mutations();

    private static Gen<T?> Optional<T>(Gen<T> value)
        where T : class => Gen.OneOf(Gen.Constant<T?>(null), value.Select(v => (T?)v));
}

/// <summary>Cuts bytes into a multi-segment sequence, to exercise readers across segment boundaries.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int segmentLength)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segments(bytes.AsMemory(0, Math.Min(segmentLength, bytes.Length)), 0);
        var last = first;
        for (var offset = segmentLength; offset < bytes.Length; offset += segmentLength)
        {
            var next = new Segments(bytes.AsMemory(offset, Math.Min(segmentLength, bytes.Length - offset)), offset);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
