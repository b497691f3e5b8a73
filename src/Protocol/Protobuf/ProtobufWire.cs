using System.Text;

namespace ToolNet.Protocol.Protobuf;

/// <summary>
/// A bounded reader for the protobuf wire format (varint, 64-bit, length-delimited, 32-bit). Every length is checked
/// against the bytes left before anything is sliced, so a declared-but-absent length never allocates. Used for the
/// messages whose bytes are signed or checked (Noise handshake payload, signed envelopes, peer records) and for the
/// untrusted protocol messages that need per-field bounds enforced while reading (identify).
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> source)
{
    private const int VarintWireType = 0;
    private const int Fixed64WireType = 1;
    private const int LengthDelimitedWireType = 2;
    private const int Fixed32WireType = 5;
    private const int MaxVarintLength = 10;

    private ReadOnlySpan<byte> _remaining = source;

    /// <summary>Reads the next field's tag; false at the end of the input.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = 0;
        wireType = 0;
        if (_remaining.IsEmpty)
        {
            return false;
        }

        var tag = ReadVarint();
        if (tag > uint.MaxValue || (tag >> 3) == 0)
        {
            throw new WireFormatException($"invalid protobuf tag {tag}");
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    /// <summary>Reads a length-delimited field's contents; the field must have wire type 2.</summary>
    public ReadOnlySpan<byte> ReadBytes(int wireType)
    {
        if (wireType != LengthDelimitedWireType)
        {
            throw new WireFormatException($"expected a length-delimited protobuf field, got wire type {wireType}");
        }

        var length = ReadVarint();
        if (length > (ulong)_remaining.Length)
        {
            throw new WireFormatException($"a protobuf field claims {length} bytes, only {_remaining.Length} remain");
        }

        var bytes = _remaining[..(int)length];
        _remaining = _remaining[(int)length..];
        return bytes;
    }

    /// <summary>Reads a length-delimited field of at most <paramref name="maxBytes"/> bytes into a new array.</summary>
    /// <param name="wireType">The field's wire type, which must be 2.</param>
    /// <param name="maxBytes">The longest field accepted.</param>
    /// <param name="what">Names the field in the error message.</param>
    public byte[] ReadBoundedBytes(int wireType, int maxBytes, string what)
    {
        var bytes = ReadBytes(wireType);
        return bytes.Length <= maxBytes
            ? bytes.ToArray()
            : throw new WireFormatException($"{what} is {bytes.Length} bytes, over the {maxBytes}-byte limit");
    }

    /// <summary>Reads a length-delimited field as strict UTF-8 of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="wireType">The field's wire type, which must be 2.</param>
    /// <param name="maxBytes">The longest encoding accepted, checked before decoding.</param>
    /// <param name="what">Names the field in the error message.</param>
    public string ReadString(int wireType, int maxBytes, string what)
    {
        var bytes = ReadBytes(wireType);
        if (bytes.Length > maxBytes)
        {
            throw new WireFormatException($"{what} is {bytes.Length} bytes, over the {maxBytes}-byte limit");
        }

        try
        {
            return ProtobufWriter.StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new WireFormatException($"{what} is not valid UTF-8", ex);
        }
    }

    /// <summary>Reads a varint field's value; the field must have wire type 0.</summary>
    public ulong ReadVarintField(int wireType)
    {
        if (wireType != VarintWireType)
        {
            throw new WireFormatException($"expected a varint protobuf field, got wire type {wireType}");
        }

        return ReadVarint();
    }

    /// <summary>Skips an unknown field. Groups (wire types 3 and 4, deprecated) and undefined wire types are rejected.</summary>
    public void SkipField(int wireType)
    {
        switch (wireType)
        {
            case VarintWireType:
                ReadVarint();
                break;
            case Fixed64WireType:
                Skip(8);
                break;
            case LengthDelimitedWireType:
                ReadBytes(wireType);
                break;
            case Fixed32WireType:
                Skip(4);
                break;
            default:
                throw new WireFormatException($"unsupported protobuf wire type {wireType}");
        }
    }

    private void Skip(int count)
    {
        if (_remaining.Length < count)
        {
            throw new WireFormatException("truncated protobuf field");
        }

        _remaining = _remaining[count..];
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var i = 0; i < MaxVarintLength && i < _remaining.Length; i++)
        {
            var b = _remaining[i];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                _remaining = _remaining[(i + 1)..];
                return value;
            }
        }

        throw new WireFormatException(_remaining.Length < MaxVarintLength ? "truncated protobuf varint" : "protobuf varint longer than 10 bytes");
    }
}

/// <summary>Writes protobuf fields into a span sized in advance with the <c>…Length</c> helpers.</summary>
internal ref struct ProtobufWriter(Span<byte> destination)
{
    private const int VarintWireType = 0;
    private const int LengthDelimitedWireType = 2;

    /// <summary>UTF-8 that throws on invalid input instead of substituting, for protobuf <c>string</c> fields.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Span<byte> _destination = destination;

    public int Written { get; private set; }

    public readonly Span<byte> Remaining => _destination[Written..];

    /// <summary>The encoded size of a length-delimited field with <paramref name="length"/> bytes of contents.</summary>
    public static int BytesFieldLength(int field, int length, bool omitEmpty) =>
        omitEmpty && length == 0 ? 0 : VarintLength((uint)(field << 3)) + VarintLength((uint)length) + length;

    /// <summary>The encoded size of a varint field; proto3 omits zero values when <paramref name="omitZero"/>.</summary>
    public static int VarintFieldLength(int field, ulong value, bool omitZero) =>
        omitZero && value == 0 ? 0 : VarintLength((uint)(field << 3)) + VarintLength(value);

    /// <summary>The encoded size of a <c>string</c> field holding <paramref name="value"/> as UTF-8.</summary>
    public static int StringFieldLength(int field, string value) =>
        BytesFieldLength(field, StrictUtf8.GetByteCount(value), omitEmpty: false);

    public void WriteVarintField(int field, ulong value, bool omitZero)
    {
        if (omitZero && value == 0)
        {
            return;
        }

        WriteVarint((uint)((field << 3) | VarintWireType));
        WriteVarint(value);
    }

    public void WriteBytesField(int field, ReadOnlySpan<byte> value, bool omitEmpty)
    {
        if (omitEmpty && value.IsEmpty)
        {
            return;
        }

        WriteLengthPrefix(field, value.Length);
        value.CopyTo(Remaining);
        Written += value.Length;
    }

    /// <summary>Writes a <c>string</c> field (always, even when empty) as UTF-8.</summary>
    public void WriteStringField(int field, string value)
    {
        var length = StrictUtf8.GetByteCount(value);
        WriteLengthPrefix(field, length);
        Written += StrictUtf8.GetBytes(value, Remaining);
    }

    /// <summary>Writes a length-delimited field's tag and length; the caller writes the contents and calls <see cref="Advance"/>.</summary>
    public void WriteLengthPrefix(int field, int length)
    {
        WriteVarint((uint)((field << 3) | LengthDelimitedWireType));
        WriteVarint((uint)length);
    }

    public void Advance(int count) => Written += count;

    private static int VarintLength(ulong value) => (64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1) + 6) / 7;

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _destination[Written++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _destination[Written++] = (byte)value;
    }
}
