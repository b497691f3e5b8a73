using System.Buffers;
using System.Text;
using System.Text.Json;
using FsCheck.Xunit;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Multistream;

namespace ToolNet.Protocol.Tests.Multistream;

public class MultistreamMessageTests
{
    private static readonly JsonElement Vectors = VectorFile.Json("multistream", "multistream-select-vectors.json");

    public static TheoryData<string, string> EncodingVectors()
    {
        var data = new TheoryData<string, string>();
        foreach (var vector in Vectors.GetProperty("verbatim").EnumerateArray())
        {
            data.Add(vector.GetProperty("msg").GetString()!, vector.GetProperty("hex").GetString()!);
        }

        foreach (var vector in Vectors.GetProperty("derived_protocol_id_encodings").EnumerateArray())
        {
            data.Add(vector.GetProperty("protocol").GetString()!, vector.GetProperty("hex").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EncodingVectors))]
    public void Encodes_and_decodes_the_published_messages(string message, string hex)
    {
        var expected = Convert.FromHexString(hex);
        Assert.Equal(expected, Encode(message));
        Assert.Equal(expected.Length, MultistreamMessage.GetEncodedLength(message));

        var input = new ReadOnlySequence<byte>(expected);
        Assert.True(MultistreamMessage.TryReadProtocolId(ref input, out var decoded));
        Assert.Equal(message, decoded);
        Assert.True(input.IsEmpty);
    }

    [Fact]
    public void The_header_is_the_multistream_1_0_0_vector()
    {
        var header = Vectors.GetProperty("derived_protocol_id_encodings").EnumerateArray()
            .Single(v => v.GetProperty("protocol").GetString() == MultistreamMessage.ProtocolId);
        Assert.Equal(header.GetProperty("hex").Hex(), Encode(MultistreamMessage.ProtocolId));
    }

    [Property]
    public void Every_body_round_trips(byte[] body)
    {
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(writer, body);
        Assert.Equal(Varint.SizeOf((ulong)body.Length + 1) + body.Length + 1, writer.WrittenCount);

        var input = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(MultistreamMessage.TryRead(ref input, MultistreamMessage.MaxMessageLength, out var decoded));
        Assert.Equal(body, decoded.ToArray());
        Assert.True(input.IsEmpty);
    }

    [Property]
    public void Every_string_round_trips(string? text)
    {
        if (text is null || !IsValidUtf16(text))
        {
            return;
        }

        var input = new ReadOnlySequence<byte>(Encode(text));
        Assert.True(MultistreamMessage.TryReadString(ref input, MultistreamMessage.MaxMessageLength, out var decoded));
        Assert.Equal(text, decoded);
        Assert.True(input.IsEmpty);
    }

    [Property]
    public void Arbitrary_bytes_decode_wait_or_throw_the_format_exception(byte[] bytes)
    {
        var input = new ReadOnlySequence<byte>(bytes);
        bool complete;
        ReadOnlySequence<byte> body;
        try
        {
            complete = MultistreamMessage.TryRead(ref input, MultistreamMessage.MaxMessageLength, out body);
        }
        catch (WireFormatException)
        {
            return;
        }

        if (!complete)
        {
            Assert.Equal(bytes.Length, input.Length);
            return;
        }

        var consumed = bytes.Length - (int)input.Length;
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(writer, body.ToArray());
        Assert.Equal(bytes.AsSpan(0, consumed).ToArray(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Every_prefix_is_incomplete_and_every_split_decodes_alike()
    {
        var bytes = Encode("/ipfs/id/push/1.0.0");
        for (var cut = 0; cut < bytes.Length; cut++)
        {
            var prefix = new ReadOnlySequence<byte>(bytes, 0, cut);
            Assert.False(MultistreamMessage.TryReadProtocolId(ref prefix, out _));
            Assert.Equal(cut, prefix.Length);

            var split = TwoSegments(bytes, cut);
            Assert.True(MultistreamMessage.TryReadProtocolId(ref split, out var decoded));
            Assert.Equal("/ipfs/id/push/1.0.0", decoded);
            Assert.True(split.IsEmpty);
        }
    }

    [Fact]
    public void Reads_one_message_and_leaves_what_follows()
    {
        var bytes = Encode(MultistreamMessage.ProtocolId).Concat(Encode("/noise")).Concat("xyz"u8.ToArray()).ToArray();
        var input = new ReadOnlySequence<byte>(bytes);
        Assert.True(MultistreamMessage.TryReadProtocolId(ref input, out var header));
        Assert.True(MultistreamMessage.TryReadProtocolId(ref input, out var proposal));
        Assert.Equal((MultistreamMessage.ProtocolId, "/noise"), (header, proposal));
        Assert.Equal("xyz"u8.ToArray(), input.ToArray());
    }

    [Fact]
    public void Rejects_a_protocol_id_over_1_KiB_before_its_body_arrives()
    {
        var accepted = new ReadOnlySequence<byte>(Varint.Encode(MultistreamMessage.MaxProtocolIdLength + 1));
        Assert.False(MultistreamMessage.TryReadProtocolId(ref accepted, out _));

        var tooLong = new ReadOnlySequence<byte>(Varint.Encode(MultistreamMessage.MaxProtocolIdLength + 2));
        var e = Assert.Throws<WireFormatException>(() => MultistreamMessage.TryReadProtocolId(ref tooLong, out _));
        Assert.Contains("1025-byte limit", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_message_over_64_KiB_before_its_body_arrives()
    {
        var accepted = new ReadOnlySequence<byte>(Varint.Encode(MultistreamMessage.MaxMessageLength));
        Assert.False(MultistreamMessage.TryRead(ref accepted, MultistreamMessage.MaxMessageLength, out _));

        var tooLong = new ReadOnlySequence<byte>(Varint.Encode(MultistreamMessage.MaxMessageLength + 1));
        Assert.Throws<WireFormatException>(() => MultistreamMessage.TryRead(ref tooLong, MultistreamMessage.MaxMessageLength, out _));
    }

    [Fact]
    public void Rejects_an_oversized_prefix_before_the_prefix_itself_is_complete()
    {
        // Two continuation bytes: whatever follows, the value is at least 2^14 > 1025.
        var partial = new ReadOnlySequence<byte>([0x80, 0x80]);
        Assert.Throws<WireFormatException>(() => MultistreamMessage.TryReadProtocolId(ref partial, out _));

        // One continuation byte may still become 1025 or less.
        var undecided = new ReadOnlySequence<byte>([0x81]);
        Assert.False(MultistreamMessage.TryReadProtocolId(ref undecided, out _));
    }

    [Theory]
    [InlineData("036e610b", "newline")]
    [InlineData("00", "length 0")]
    [InlineData("8300", "varint")]
    [InlineData("03c3280a", "UTF-8")]
    public void Rejects_malformed_messages(string hex, string reason)
    {
        var input = new ReadOnlySequence<byte>(Convert.FromHexString(hex));
        var e = Assert.ThrowsAny<WireFormatException>(() => MultistreamMessage.TryReadProtocolId(ref input, out _));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writes_the_ls_response_as_one_message_of_nested_messages()
    {
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.WriteProtocolList(writer, ["/a", "/bc"]);

        // outer length 10 = "03 /a \n" (4) + "04 /bc \n" (5) + trailing "\n" (1)
        Assert.Equal(Convert.FromHexString("0a" + "032f610a" + "042f62630a" + "0a"), writer.WrittenSpan.ToArray());

        var input = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(MultistreamMessage.TryRead(ref input, MultistreamMessage.MaxMessageLength, out var body));
        Assert.Equal(["/a", "/bc"], MultistreamMessage.ReadProtocolList(body));
    }

    [Fact]
    public void An_empty_ls_response_is_a_lone_newline()
    {
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.WriteProtocolList(writer, []);
        Assert.Equal(new byte[] { 0x01, 0x0a }, writer.WrittenSpan.ToArray());
        Assert.Empty(MultistreamMessage.ReadProtocolList(ReadOnlySequence<byte>.Empty));
    }

    [Property]
    public void Every_protocol_list_round_trips(string?[] raw)
    {
        var protocols = raw.Where(p => p is not null && IsValidUtf16(p) && Encoding.UTF8.GetByteCount(p) <= 100).Select(p => p!).ToArray();
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.WriteProtocolList(writer, protocols);
        var input = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(MultistreamMessage.TryRead(ref input, MultistreamMessage.MaxMessageLength, out var body));
        Assert.Equal(protocols, MultistreamMessage.ReadProtocolList(body));
    }

    [Theory]
    [InlineData("032f61")]
    [InlineData("032f610a05")]
    [InlineData("032f610b")]
    public void Rejects_a_cut_or_malformed_ls_entry(string hex)
    {
        Assert.ThrowsAny<WireFormatException>(() => MultistreamMessage.ReadProtocolList(new ReadOnlySequence<byte>(Convert.FromHexString(hex))));
    }

    [Fact]
    public void Refuses_to_write_a_message_over_64_KiB()
    {
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(writer, new byte[MultistreamMessage.MaxMessageLength - 1]);
        Assert.Throws<ArgumentException>(() => MultistreamMessage.Write(writer, new byte[MultistreamMessage.MaxMessageLength]));
        Assert.Throws<ArgumentException>(() => MultistreamMessage.WriteProtocolList(writer, Enumerable.Repeat(new string('p', 1000), 70).ToArray()));
    }

    internal static byte[] Encode(string message)
    {
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var second = new Segment(bytes.AsMemory(cut), cut);
        first.SetNext(second);
        return new ReadOnlySequence<byte>(first, 0, second, bytes.Length - cut);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
