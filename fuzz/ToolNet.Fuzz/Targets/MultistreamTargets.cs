using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Multistream;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets for the multistream-select codec.</summary>
internal static class MultistreamTargets
{
    /// <summary>
    /// Reads one message (64 KiB bound) from the input, once contiguous and once split across two segments;
    /// both must agree. An incomplete message must leave the input untouched; a decoded one must re-encode to the
    /// bytes consumed, as raw bytes, as a UTF-8 string and as an <c>ls</c> response when it is one of those.
    /// </summary>
    [FuzzTarget("multistream-message")]
    public static void Message(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var contiguous = Read(new ReadOnlySequence<byte>(bytes));
        var split = Read(TwoSegments(bytes, bytes.Length / 2));
        if (contiguous.Rejection is not null || split.Rejection is not null)
        {
            if (contiguous.Rejection is null || split.Rejection is null)
            {
                throw new InvalidOperationException("a split input was judged differently from a contiguous one");
            }

            throw contiguous.Rejection;
        }

        if (contiguous.Consumed != split.Consumed || !contiguous.Body.AsSpan().SequenceEqual(split.Body))
        {
            throw new InvalidOperationException("a split input decoded differently from a contiguous one");
        }

        if (contiguous.Consumed == 0)
        {
            return;
        }

        var message = bytes.AsSpan(0, contiguous.Consumed);
        var writer = new ArrayBufferWriter<byte>();
        MultistreamMessage.Write(writer, contiguous.Body);
        CheckRoundTrip(writer, message, "message");

        try
        {
            var text = MultistreamMessage.DecodeUtf8(new ReadOnlySequence<byte>(contiguous.Body));
            writer.Clear();
            MultistreamMessage.Write(writer, text);
            CheckRoundTrip(writer, message, "string message");
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var protocols = MultistreamMessage.ReadProtocolList(new ReadOnlySequence<byte>(contiguous.Body));
            writer.Clear();
            MultistreamMessage.WriteProtocolList(writer, protocols.ToArray());
            CheckRoundTrip(writer, message, "ls response");
        }
        catch (WireFormatException)
        {
        }
    }

    private static Outcome Read(ReadOnlySequence<byte> sequence)
    {
        var input = sequence;
        try
        {
            if (!MultistreamMessage.TryRead(ref input, MultistreamMessage.MaxMessageLength, out var body))
            {
                if (input.Length != sequence.Length)
                {
                    throw new InvalidOperationException("an incomplete message consumed input");
                }

                return new Outcome(0, [], null);
            }

            return new Outcome((int)(sequence.Length - input.Length), body.ToArray(), null);
        }
        catch (WireFormatException e)
        {
            return new Outcome(0, [], e);
        }
    }

    private static void CheckRoundTrip(ArrayBufferWriter<byte> written, ReadOnlySpan<byte> original, string what)
    {
        if (!written.WrittenSpan.SequenceEqual(original))
        {
            throw new InvalidOperationException($"{what} did not round-trip");
        }
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] bytes, int cut)
    {
        var first = new Segment(bytes.AsMemory(0, cut), 0);
        var second = new Segment(bytes.AsMemory(cut), cut);
        first.Link(second);
        return new ReadOnlySequence<byte>(first, 0, second, bytes.Length - cut);
    }

    private sealed record Outcome(int Consumed, byte[] Body, WireFormatException? Rejection);

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void Link(Segment next) => Next = next;
    }
}
