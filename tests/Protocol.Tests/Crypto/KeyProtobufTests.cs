using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;

namespace ToolNet.Protocol.Tests.Crypto;

/// <summary>The hand-written PublicKey/PrivateKey protobuf: exactly one deterministic layout in, the same out.</summary>
public class KeyProtobufTests
{
    private static readonly byte[] Ed25519Public = Convert.FromHexString("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");

    [Fact]
    public void Rsa_type_zero_is_written_explicitly_first()
    {
        var encoded = RsaPrivateKey.Generate().GetPublicKey().ToProtobuf();
        Assert.Equal([0x08, 0x00, 0x12], encoded[..3]);
    }

    [Fact]
    public void Writes_into_spans_and_buffer_writers()
    {
        var key = PublicKey.FromProtobuf(Ed25519Public);
        var span = new byte[key.ProtobufLength + 3];
        Assert.Equal(Ed25519Public.Length, key.WriteProtobuf(span));
        Assert.Equal(Ed25519Public, span[..Ed25519Public.Length]);

        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        key.WriteProtobuf(writer);
        Assert.Equal(Ed25519Public, writer.WrittenSpan.ToArray());
        Assert.Throws<ArgumentException>(() => key.WriteProtobuf(new byte[key.ProtobufLength - 1]));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("0801", "type only")]
    [InlineData("1220" + "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "type missing")]
    [InlineData("1220" + "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0801", "fields reversed")]
    [InlineData("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e1801", "unknown field after")]
    [InlineData("18010801122" + "01ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "unknown field before")]
    [InlineData("0801080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "type repeated")]
    [InlineData("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e12020000", "data repeated")]
    [InlineData("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fc", "data truncated")]
    [InlineData("080112211ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "length beyond the end")]
    [InlineData("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e00", "trailing byte")]
    [InlineData("08811201a0201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "non-minimal type varint")]
    [InlineData("080112a0001ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "non-minimal length varint")]
    [InlineData("080412201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "unknown key type 4")]
    [InlineData("08ffffffff0f12201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "huge key type")]
    [InlineData("0a0112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "type with wrong wire type")]
    [InlineData("080110201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "data with wrong wire type")]
    [InlineData("0801121f1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce2", "31-byte Ed25519 key")]
    public void Rejects_every_other_layout(string hex, string why)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.True(WireFormatAssert.Rejects(() => PublicKey.FromProtobuf(bytes)), why);
        Assert.True(WireFormatAssert.Rejects(() => PrivateKey.FromProtobuf(bytes)), why);
    }

    [Fact]
    public void Rejects_messages_over_the_bound_before_looking_at_them()
    {
        var huge = new byte[16 * 1024 + 1];
        huge[0] = 0x08;
        var exception = Assert.Throws<WireFormatException>(() => PublicKey.FromProtobuf(huge));
        Assert.Contains("exceeds", exception.Message, StringComparison.Ordinal);
    }

    [Property]
    public void Layout_round_trips(byte type, byte[] data)
    {
        var keyType = (KeyType)(type % 4);
        var encoded = KeyProtobuf.Encode(keyType, data);
        Assert.Equal(KeyProtobuf.LengthOf(data.Length), encoded.Length);
        Assert.Equal(keyType, KeyProtobuf.Read(encoded, out var decoded));
        Assert.Equal(data, decoded.ToArray());
    }
}
