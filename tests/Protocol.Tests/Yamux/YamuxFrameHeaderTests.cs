using System.Buffers;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using ToolNet.Fuzz;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Protocol.Tests.Yamux;

public class YamuxFrameHeaderTests
{
    private static readonly JsonElement Vectors = LoadVectors();

    public static TheoryData<string, string> DerivedFrames()
    {
        var data = new TheoryData<string, string>();
        foreach (var frame in Vectors.GetProperty("frames").EnumerateArray())
        {
            data.Add(frame.GetProperty("description").GetString()!, frame.GetProperty("hex").GetString()!);
        }

        return data;
    }

    /// <summary>What each vector must decode to, keyed by its description (the vectors carry only hex).</summary>
    private static readonly Dictionary<string, YamuxFrameHeader> Expected = new()
    {
        ["open stream 1 (client) with WindowUpdate+SYN, delta 0"] = YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Syn, 0),
        ["accept stream 1 with WindowUpdate+ACK, delta 0"] = YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Ack, 0),
        ["open stream 1 with SYN and grant +16MiB-256KiB extra window"] = YamuxFrameHeader.WindowUpdate(1, YamuxFrameFlags.Syn, (16 * 1024 * 1024) - (256 * 1024)),
        ["data on stream 1, 5-byte payload \"hello\" follows header"] = YamuxFrameHeader.Data(1, YamuxFrameFlags.None, 5),
        ["half-close stream 1 (Data+FIN, length 0)"] = YamuxFrameHeader.Data(1, YamuxFrameFlags.Fin, 0),
        ["reset stream 2 (server stream, WindowUpdate+RST)"] = YamuxFrameHeader.WindowUpdate(2, YamuxFrameFlags.Rst, 0),
        ["ping request opaque=42 (SYN, stream 0)"] = YamuxFrameHeader.Ping(YamuxFrameFlags.Syn, 42),
        ["ping response opaque=42 (ACK, stream 0)"] = YamuxFrameHeader.Ping(YamuxFrameFlags.Ack, 42),
        ["go away, normal termination"] = YamuxFrameHeader.GoAway(YamuxGoAwayCode.Normal),
        ["go away, protocol error"] = YamuxFrameHeader.GoAway(YamuxGoAwayCode.ProtocolError),
    };

    [Theory]
    [MemberData(nameof(DerivedFrames))]
    public void Decodes_and_encodes_the_derived_frames(string description, string hex)
    {
        var bytes = Convert.FromHexString(hex);
        var expected = Expected[description];

        var header = YamuxFrameHeader.Read(bytes);
        Assert.Equal(expected, header);

        var encoded = new byte[YamuxFrameHeader.Size];
        expected.Write(encoded);
        Assert.Equal(bytes[..YamuxFrameHeader.Size], encoded);

        // Whatever follows the header is the data payload.
        Assert.Equal(expected.Type == YamuxFrameType.Data ? expected.Length : 0, (uint)(bytes.Length - YamuxFrameHeader.Size));
    }

    [Fact]
    public void Every_vector_is_checked()
    {
        Assert.Equal(Expected.Count, DerivedFrames().Count);
    }

    [Fact]
    public void Reads_a_header_split_across_segments()
    {
        var bytes = Convert.FromHexString("00000000000000010000000568656c6c6f");
        for (var split = 1; split < YamuxFrameHeader.Size; split++)
        {
            var sequence = SegmentedSequence.Create(bytes, split);
            Assert.True(YamuxFrameHeader.TryRead(sequence, out var header));
            Assert.Equal(YamuxFrameHeader.Data(1, YamuxFrameFlags.None, 5), header);
        }
    }

    [Fact]
    public void TryRead_waits_for_twelve_bytes()
    {
        var bytes = Convert.FromHexString("000100010000000100000000");
        for (var length = 0; length < YamuxFrameHeader.Size; length++)
        {
            Assert.False(YamuxFrameHeader.TryRead(new ReadOnlySequence<byte>(bytes, 0, length), out _));
        }

        Assert.Throws<WireFormatException>(() => YamuxFrameHeader.Read(bytes.AsSpan(0, 11)));
    }

    [Theory]
    [InlineData("010000000000000100000000", "version")]
    [InlineData("ff0100010000000100000000", "version")]
    [InlineData("000400000000000100000000", "type")]
    [InlineData("00ff00000000000100000000", "type")]
    public void Rejects_unknown_versions_and_types(string hex, string what)
    {
        var bytes = Convert.FromHexString(hex);
        var e = Assert.Throws<WireFormatException>(() => YamuxFrameHeader.Read(bytes));
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Throws<WireFormatException>(() => YamuxFrameHeader.TryRead(new ReadOnlySequence<byte>(bytes), out _));
    }

    [Fact]
    public void Writes_to_a_buffer_writer()
    {
        var writer = new ArrayBufferWriter<byte>();
        YamuxFrameHeader.Ping(YamuxFrameFlags.Syn, 42).Write(writer);
        Assert.Equal(Convert.FromHexString("00020001000000000000002a"), writer.WrittenSpan.ToArray());
    }

    [Property]
    public void Every_header_round_trips(byte type, ushort flags, uint streamId, uint length)
    {
        var header = new YamuxFrameHeader((YamuxFrameType)(type % 4), (YamuxFrameFlags)flags, streamId, length);
        var bytes = new byte[YamuxFrameHeader.Size];
        header.Write(bytes);
        Assert.Equal(header, YamuxFrameHeader.Read(bytes));
        Assert.True(YamuxFrameHeader.TryRead(SegmentedSequence.Create(bytes, (int)(streamId % YamuxFrameHeader.Size)), out var fromSequence));
        Assert.Equal(header, fromSequence);
    }

    [Property]
    public Property Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            var header = YamuxFrameHeader.Read(bytes);
            var encoded = new byte[YamuxFrameHeader.Size];
            header.Write(encoded);
            return encoded.AsSpan().SequenceEqual(bytes.AsSpan(0, YamuxFrameHeader.Size)).ToProperty();
        }
        catch (WireFormatException)
        {
            return (bytes.Length < YamuxFrameHeader.Size || bytes[0] != 0 || bytes[1] > 3).ToProperty();
        }
    }

    private static JsonElement LoadVectors()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", "yamux", "yamux-frames-derived.json")));
        return document.RootElement.Clone();
    }
}
