using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Tests.Multiformats;

public class VarintTests
{
    private static readonly System.Text.Json.JsonElement Vectors = VectorFile.Json("varint", "unsigned-varint-vectors.json");

    public static TheoryData<ulong, string> ValidVectors()
    {
        var data = new TheoryData<ulong, string>();
        foreach (var example in Vectors.GetProperty("examples").EnumerateArray())
        {
            data.Add(example.GetProperty("value").GetUInt64(), example.GetProperty("hex").GetString()!);
        }

        foreach (var example in Vectors.GetProperty("derived_extra").GetProperty("valid").EnumerateArray())
        {
            data.Add(example.GetProperty("value").GetUInt64(), example.GetProperty("hex").GetString()!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ValidVectors))]
    public void Encodes_and_decodes_the_published_examples(ulong value, string hex)
    {
        var expected = Convert.FromHexString(hex);
        Assert.Equal(expected, Varint.Encode(value));
        Assert.Equal(expected.Length, Varint.SizeOf(value));
        Assert.Equal(value, Varint.Read(expected, out var read));
        Assert.Equal(expected.Length, read);
    }

    [Fact]
    public void Rejects_non_minimal_encodings()
    {
        foreach (var hex in Vectors.GetProperty("derived_extra").GetProperty("invalid_non_minimal").EnumerateArray())
        {
            var e = Assert.Throws<VarintFormatException>(() => Varint.Read(hex.Hex(), out _));
            Assert.Equal(VarintStatus.NonMinimal, e.Status);
        }
    }

    [Fact]
    public void Rejects_ten_byte_varints_as_overflow()
    {
        var bytes = Vectors.GetProperty("derived_extra").GetProperty("invalid_too_long_10_bytes").Hex();
        var e = Assert.Throws<VarintFormatException>(() => Varint.Read(bytes, out _));
        Assert.Equal(VarintStatus.Overflow, e.Status);
    }

    [Fact]
    public void Rejects_truncated_varints()
    {
        var bytes = Vectors.GetProperty("derived_extra").GetProperty("invalid_truncated").Hex();
        var e = Assert.Throws<VarintFormatException>(() => Varint.Read(bytes, out _));
        Assert.Equal(VarintStatus.NeedMoreData, e.Status);
        Assert.Equal(VarintStatus.NeedMoreData, Varint.TryRead([], out _, out _));
    }

    [Fact]
    public void Refuses_to_encode_values_over_63_bits()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Varint.Encode(Varint.MaxValue + 1));
    }

    [Fact]
    public void Reads_across_sequence_segments_and_leaves_the_reader_alone_until_complete()
    {
        var first = new Segment([0xAC]);
        var last = first.Append([0x02, 0x7F]);
        var sequence = new ReadOnlySequence<byte>(first, 0, last, 2);
        var reader = new SequenceReader<byte>(sequence);
        Assert.Equal(VarintStatus.Done, Varint.TryRead(ref reader, out var value));
        Assert.Equal(300UL, value);
        Assert.Equal(2, reader.Consumed);

        var partial = new SequenceReader<byte>(new ReadOnlySequence<byte>([0x80, 0x80]));
        Assert.Equal(VarintStatus.NeedMoreData, Varint.TryRead(ref partial, out _));
        Assert.Equal(0, partial.Consumed);
    }

    [Property]
    public void Every_value_round_trips(ulong raw)
    {
        var value = raw & Varint.MaxValue;
        var buffer = new ArrayBufferWriter<byte>();
        Varint.Write(buffer, value);
        Assert.Equal(Varint.SizeOf(value), buffer.WrittenCount);
        Assert.Equal(value, Varint.Read(buffer.WrittenSpan, out var read));
        Assert.Equal(buffer.WrittenCount, read);
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            var value = Varint.Read(bytes, out var read);
            Assert.Equal(bytes.AsSpan(0, read).ToArray(), Varint.Encode(value));
        }
        catch (WireFormatException)
        {
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] memory) => Memory = memory;

        public Segment Append(byte[] memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
