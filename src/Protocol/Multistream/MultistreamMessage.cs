using System.Buffers;
using System.Text;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Multistream;

/// <summary>
/// The multistream-select 1.0 message codec (libp2p/specs <c>connections/README.md</c>, "multistream-select"):
/// every message is <c>uvarint(length) ‖ UTF-8 bytes ‖ '\n'</c>, where the length counts the newline.
/// The <c>ls</c> response is one such message whose body is a run of such messages, one per protocol
/// (multiformats/multistream-select <c>README.md</c>, "ls example in detail"). Pure: no I/O, fuzzable.
/// </summary>
public static class MultistreamMessage
{
    /// <summary>The multistream-select 1.0 protocol id, sent first by both sides as the header.</summary>
    public const string ProtocolId = "/multistream/1.0.0";

    /// <summary>The "not available" answer to a proposal.</summary>
    public const string NotAvailable = "na";

    /// <summary>The request for the responder's protocol list.</summary>
    public const string List = "ls";

    /// <summary>The longest protocol id, in UTF-8 bytes, accepted or sent: 1 KiB.</summary>
    public const int MaxProtocolIdLength = 1024;

    /// <summary>The largest length prefix (body plus newline) of any message, an <c>ls</c> response included: 64 KiB.</summary>
    public const int MaxMessageLength = 64 * 1024;

    /// <summary>The length-prefix bound for a message that carries one protocol id.</summary>
    public const int MaxProtocolIdMessageLength = MaxProtocolIdLength + 1;

    private const byte Newline = (byte)'\n';

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads one message from the start of <paramref name="input"/>. On success slices the message off
    /// <paramref name="input"/> and returns its body (without the newline). When the message is not complete yet
    /// returns false and leaves <paramref name="input"/> untouched.
    /// </summary>
    /// <param name="input">Received bytes; advanced past the message on success.</param>
    /// <param name="maxMessageLength">The largest length prefix accepted, checked before the body is awaited.</param>
    /// <param name="body">The message body, a slice of <paramref name="input"/>.</param>
    /// <exception cref="WireFormatException">Bad varint, zero or oversized length, or no trailing newline.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> input, int maxMessageLength, out ReadOnlySequence<byte> body)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageLength, 1);
        body = default;
        var reader = new SequenceReader<byte>(input);
        var status = Varint.TryRead(ref reader, out var length);
        if (status == VarintStatus.NeedMoreData)
        {
            // A minimal varint longer than the bound's own encoding encodes a larger value: reject it now
            // rather than wait for the rest of an oversized prefix.
            if (input.Length >= Varint.SizeOf((ulong)maxMessageLength))
            {
                throw new WireFormatException($"multistream-select message length prefix exceeds the {maxMessageLength}-byte limit");
            }

            return false;
        }

        Varint.ThrowIfNotDone(status);
        if (length == 0)
        {
            throw new WireFormatException("multistream-select message has length 0; it must at least hold the trailing newline");
        }

        if (length > (ulong)maxMessageLength)
        {
            throw new WireFormatException($"multistream-select message of {length} bytes exceeds the {maxMessageLength}-byte limit");
        }

        if (reader.Remaining < (long)length)
        {
            return false;
        }

        var message = reader.UnreadSequence.Slice(0, (long)length);
        var last = message.Slice(message.Length - 1);
        if (last.FirstSpan[0] != Newline)
        {
            throw new WireFormatException("multistream-select message does not end with a newline");
        }

        body = message.Slice(0, message.Length - 1);
        input = input.Slice(message.End);
        return true;
    }

    /// <summary>Like <see cref="TryRead(ref ReadOnlySequence{byte}, int, out ReadOnlySequence{byte})"/>, decoding the body as UTF-8.</summary>
    /// <exception cref="WireFormatException">As the byte overload, or the body is not valid UTF-8.</exception>
    public static bool TryReadString(ref ReadOnlySequence<byte> input, int maxMessageLength, out string message)
    {
        if (!TryRead(ref input, maxMessageLength, out var body))
        {
            message = string.Empty;
            return false;
        }

        message = DecodeUtf8(body);
        return true;
    }

    /// <summary>Reads one message holding a protocol id (or <c>na</c> / <c>ls</c>), bounded by <see cref="MaxProtocolIdLength"/>.</summary>
    /// <exception cref="WireFormatException">Malformed, over 1 KiB, or not UTF-8.</exception>
    public static bool TryReadProtocolId(ref ReadOnlySequence<byte> input, out string protocolId) =>
        TryReadString(ref input, MaxProtocolIdMessageLength, out protocolId);

    /// <summary>The UTF-8 size of <paramref name="message"/>'s body, without prefix and newline.</summary>
    /// <exception cref="ArgumentException">The string is not valid UTF-16 (a lone surrogate).</exception>
    public static int GetByteCount(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return StrictUtf8.GetByteCount(message);
    }

    /// <summary>The encoded size of <paramref name="message"/>: prefix, UTF-8 bytes and newline.</summary>
    /// <exception cref="ArgumentException">The string is not valid UTF-16 (a lone surrogate).</exception>
    public static int GetEncodedLength(string message)
    {
        var length = GetByteCount(message) + 1;
        return Varint.SizeOf((ulong)length) + length;
    }

    /// <summary>Writes <paramref name="body"/> as one message.</summary>
    /// <exception cref="ArgumentException">The message would exceed <see cref="MaxMessageLength"/>.</exception>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = CheckedLength(body.Length);
        var span = writer.GetSpan(Varint.SizeOf(length) + body.Length + 1);
        var written = Varint.Write(span, length);
        body.CopyTo(span[written..]);
        written += body.Length;
        span[written++] = Newline;
        writer.Advance(written);
    }

    /// <summary>Writes <paramref name="message"/> as one UTF-8 message.</summary>
    /// <exception cref="ArgumentException">The message is not valid UTF-16 or would exceed <see cref="MaxMessageLength"/>.</exception>
    public static void Write(IBufferWriter<byte> writer, string message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        var byteCount = StrictUtf8.GetByteCount(message);
        var length = CheckedLength(byteCount);
        var span = writer.GetSpan(Varint.SizeOf(length) + byteCount + 1);
        var written = Varint.Write(span, length);
        written += StrictUtf8.GetBytes(message, span[written..]);
        span[written++] = Newline;
        writer.Advance(written);
    }

    /// <summary>Writes the <c>ls</c> response: one message whose body holds one message per protocol.</summary>
    /// <exception cref="ArgumentException">The response would exceed <see cref="MaxMessageLength"/>.</exception>
    public static void WriteProtocolList(IBufferWriter<byte> writer, IReadOnlyCollection<string> protocols)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(protocols);
        long bodyLength = 0;
        foreach (var protocol in protocols)
        {
            bodyLength += GetEncodedLength(protocol);
        }

        var length = CheckedLength(bodyLength);
        Varint.Write(writer, length);
        foreach (var protocol in protocols)
        {
            Write(writer, protocol);
        }

        writer.GetSpan(1)[0] = Newline;
        writer.Advance(1);
    }

    /// <summary>Parses the body of an <c>ls</c> response (as returned by <see cref="TryRead"/>) into protocol ids.</summary>
    /// <exception cref="WireFormatException">An entry is malformed, over 1 KiB, not UTF-8, or cut off.</exception>
    public static IReadOnlyList<string> ReadProtocolList(ReadOnlySequence<byte> body)
    {
        var protocols = new List<string>();
        while (!body.IsEmpty)
        {
            if (!TryReadProtocolId(ref body, out var protocol))
            {
                throw new WireFormatException("multistream-select ls response ends inside a protocol entry");
            }

            protocols.Add(protocol);
        }

        return protocols;
    }

    private static ulong CheckedLength(long bodyLength)
    {
        var length = bodyLength + 1;
        if (length > MaxMessageLength)
        {
            throw new ArgumentException($"a multistream-select message may not exceed {MaxMessageLength} bytes; this one has {length}");
        }

        return (ulong)length;
    }

    /// <summary>Decodes a message body as strict UTF-8.</summary>
    /// <exception cref="WireFormatException">The body is not valid UTF-8.</exception>
    internal static string DecodeUtf8(ReadOnlySequence<byte> body)
    {
        try
        {
            return StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException e)
        {
            throw new WireFormatException("multistream-select message is not valid UTF-8", e);
        }
    }
}
