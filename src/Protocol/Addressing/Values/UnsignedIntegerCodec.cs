using System.Buffers.Binary;
using System.Globalization;

namespace ToolNet.Protocol.Addressing;

/// <summary>A big-endian unsigned integer of 1, 2 or 8 bytes, written in decimal (ports, <c>ipcidr</c>, <c>memory</c>).</summary>
internal sealed class UnsignedIntegerCodec : MultiaddrValueCodec
{
    private UnsignedIntegerCodec(int byteLength) => ByteLength = byteLength;

    public static UnsignedIntegerCodec Byte { get; } = new(1);

    public static UnsignedIntegerCodec Port { get; } = new(2);

    public static UnsignedIntegerCodec UInt64 { get; } = new(8);

    public int ByteLength { get; }

    private ulong Maximum => ByteLength == 8 ? ulong.MaxValue : (1UL << (8 * ByteLength)) - 1;

    public override void Validate(ReadOnlySpan<byte> value)
    {
        // Every bit pattern of the fixed length is a valid number.
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        var number = MultiaddrText.ParseDecimal(text, Maximum);
        var bytes = new byte[ByteLength];
        for (var i = ByteLength - 1; i >= 0; i--)
        {
            bytes[i] = (byte)number;
            number >>= 8;
        }

        return bytes;
    }

    public override string Format(ReadOnlySpan<byte> value) => ByteLength switch
    {
        1 => value[0].ToString(CultureInfo.InvariantCulture),
        2 => BinaryPrimitives.ReadUInt16BigEndian(value).ToString(CultureInfo.InvariantCulture),
        _ => BinaryPrimitives.ReadUInt64BigEndian(value).ToString(CultureInfo.InvariantCulture),
    };
}
