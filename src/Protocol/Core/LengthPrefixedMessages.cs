using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Core;

/// <summary>Decodes one message body; throws <see cref="WireFormatException"/> when it is malformed.</summary>
public delegate TMessage MessageBodyDecoder<out TMessage>(ReadOnlySpan<byte> body);

/// <summary>
/// Varint-length-prefixed messages on a stream (the unsigned-varint framing of the multiformats spec): the pure
/// framing over <see cref="ReadOnlySequence{T}"/> and <see cref="IBufferWriter{T}"/>, and the pipe reads and writes
/// built on it. Every length prefix is checked against the codec's <see cref="IMessageCodec{TMessage}.MaxMessageLength"/>
/// as soon as it is complete, so an oversized message costs nothing to refuse.
/// </summary>
public static class LengthPrefixedMessages
{
    /// <summary>
    /// Reads one message from the start of <paramref name="buffer"/> and slices it off. Returns false, leaving the
    /// buffer as it was, while the prefix or body is incomplete.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryRead<TMessage>(ref ReadOnlySequence<byte> buffer, IMessageCodec<TMessage> codec, [MaybeNullWhen(false)] out TMessage message)
    {
        ArgumentNullException.ThrowIfNull(codec);
        return TryRead(ref buffer, codec.MaxMessageLength, codec.Decode, out message);
    }

    /// <summary>
    /// Reads one message of at most <paramref name="maxLength"/> bytes with <paramref name="decode"/>, for decoders
    /// that need more than a body (identify merges into the message read before). Returns false, leaving the buffer as
    /// it was, while the prefix or body is incomplete.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized prefix, or a malformed body.</exception>
    public static bool TryRead<TMessage>(ref ReadOnlySequence<byte> buffer, int maxLength, MessageBodyDecoder<TMessage> decode, [MaybeNullWhen(false)] out TMessage message)
    {
        ArgumentNullException.ThrowIfNull(decode);
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
            throw new WireFormatException($"message length prefix {length} exceeds the limit of {maxLength} bytes");
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

    /// <summary>Writes the length prefix and body of <paramref name="message"/> into <paramref name="writer"/>.</summary>
    /// <exception cref="ArgumentException">The message is over the codec's limit: the remote would refuse it.</exception>
    public static void Write<TMessage>(IBufferWriter<byte> writer, TMessage message, IMessageCodec<TMessage> codec)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(codec);
        var length = codec.GetEncodedLength(message);
        if (length > codec.MaxMessageLength)
        {
            throw new ArgumentException($"the message is {length} bytes, over the limit of {codec.MaxMessageLength}", nameof(message));
        }

        var prefixLength = Varint.SizeOf((ulong)length);
        var span = writer.GetSpan(prefixLength + length);
        Varint.Write(span, (ulong)length);
        codec.Encode(message, span.Slice(prefixLength, length));
        writer.Advance(prefixLength + length);
    }

    /// <summary>
    /// Reads the next message. Returns false when the stream ended cleanly (the remote half-closed) before the first
    /// byte of a message.
    /// </summary>
    /// <exception cref="WireFormatException">A malformed or oversized message, or one cut off by end-of-stream.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<(bool Received, TMessage? Message)> ReadAsync<TMessage>(
        PipeReader input, IMessageCodec<TMessage> codec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            var consumed = buffer.Start;
            try
            {
                if (TryRead(ref buffer, codec, out var message))
                {
                    consumed = buffer.Start;
                    return (true, message);
                }

                if (read.IsCompleted)
                {
                    return buffer.IsEmpty
                        ? (false, default)
                        : throw new WireFormatException($"the stream ended {buffer.Length} bytes into a message");
                }

                if (read.IsCanceled)
                {
                    throw new OperationCanceledException("the read was cancelled");
                }
            }
            finally
            {
                input.AdvanceTo(consumed, buffer.End);
            }
        }
    }

    /// <summary>Reads the next message; end-of-stream before it is a protocol violation.</summary>
    /// <exception cref="WireFormatException">No message, or a malformed, oversized or truncated one.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<TMessage> ReadRequiredAsync<TMessage>(
        PipeReader input, IMessageCodec<TMessage> codec, CancellationToken cancellationToken = default)
    {
        var (received, message) = await ReadAsync(input, codec, cancellationToken).ConfigureAwait(false);
        return received ? message! : throw new WireFormatException("the stream ended before a message arrived");
    }

    /// <summary>Writes <paramref name="message"/>, length-prefixed, and flushes.</summary>
    /// <exception cref="IOException">The stream failed, or the remote stopped reading.</exception>
    public static async ValueTask WriteAsync<TMessage>(
        PipeWriter output, TMessage message, IMessageCodec<TMessage> codec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        Write(output, message, codec);
        var flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCompleted)
        {
            throw new IOException("the remote stopped reading before the message was sent");
        }
    }
}
