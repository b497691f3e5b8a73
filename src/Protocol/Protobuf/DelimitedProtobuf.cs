using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Protobuf;

/// <summary>Decodes one message body; throws <see cref="WireFormatException"/> when it is malformed.</summary>
internal delegate T ProtobufBodyDecoder<out T>(ReadOnlySpan<byte> body);

/// <summary>Encodes a message body of a length known in advance into exactly that many bytes.</summary>
internal delegate void ProtobufBodyEncoder<in T>(T message, Span<byte> destination);

/// <summary>
/// Protobuf messages prefixed by their length as an unsigned varint, as identify, Kademlia and most libp2p
/// request/response protocols put them on a stream: the codec-level half (on buffers, no I/O), bounded before
/// anything is allocated.
/// </summary>
internal static class DelimitedProtobuf
{
    /// <summary>
    /// Reads one length-prefixed message from the start of <paramref name="buffer"/> and slices it off. Returns false,
    /// leaving the buffer as it was, while the prefix or the body is incomplete. The prefix is checked against
    /// <paramref name="maxLength"/> as soon as it is complete, so an oversized message is refused before its body is
    /// waited for or buffered.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryRead<T>(
        ref ReadOnlySequence<byte> buffer, int maxLength, string what, ProtobufBodyDecoder<T> decode, [MaybeNullWhen(false)] out T message)
    {
        message = default;
        var reader = new SequenceReader<byte>(buffer);
        var status = Varint.TryRead(ref reader, out var length);
        if (status == VarintStatus.NeedMoreData)
        {
            return false;
        }

        Varint.ThrowIfNotDone(status);
        if (length > (ulong)maxLength)
        {
            throw new WireFormatException($"{what} length prefix {length} exceeds {maxLength}");
        }

        if (reader.Remaining < (long)length)
        {
            return false;
        }

        var body = buffer.Slice(reader.Position, (long)length);
        if (body.IsSingleSegment)
        {
            message = decode(body.FirstSpan);
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent((int)length);
            try
            {
                body.CopyTo(rented);
                message = decode(rented.AsSpan(0, (int)length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        buffer = buffer.Slice(body.End);
        return true;
    }

    /// <summary>Writes the length prefix and a body of <paramref name="length"/> bytes into <paramref name="writer"/>.</summary>
    public static void Write<T>(IBufferWriter<byte> writer, T message, int length, ProtobufBodyEncoder<T> encode)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var span = writer.GetSpan(Varint.MaxLength + length);
        var prefixLength = Varint.Write(span, (ulong)length);
        encode(message, span.Slice(prefixLength, length));
        writer.Advance(prefixLength + length);
    }
}
