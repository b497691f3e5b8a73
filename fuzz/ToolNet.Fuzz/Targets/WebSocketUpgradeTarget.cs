using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.WebSocket;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target for the WebSocket upgrade request parser (<see cref="HttpHeadCodec"/>) and the server's
/// judgement of a request (<see cref="WebSocketHandshake.TryAccept"/>).</summary>
internal static class WebSocketUpgradeTarget
{
    /// <summary>
    /// Reads a request head, contiguous and in 7-byte segments (both must agree; an incomplete head must leave the
    /// input untouched). A decoded head must re-encode to a head that reads back equal, consuming exactly what was
    /// written; the server's answer to it must also round-trip, and an acceptance must carry the right
    /// <c>Sec-WebSocket-Accept</c> and pass the client's check.
    /// </summary>
    [FuzzTarget("websocket-upgrade-request")]
    public static void Request(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var contiguous = Read(new ReadOnlySequence<byte>(bytes));
        var segmented = Read(NoiseTargets.SevenByteSegment.Split(bytes));
        if ((contiguous.Rejection is null) != (segmented.Rejection is null)
            || contiguous.Consumed != segmented.Consumed
            || !Equals(contiguous.Head, segmented.Head))
        {
            throw new InvalidOperationException("a segmented input was read differently from a contiguous one");
        }

        if (contiguous.Rejection is not null)
        {
            throw contiguous.Rejection;
        }

        if (contiguous.Head is not { } head)
        {
            return;
        }

        var writer = new ArrayBufferWriter<byte>();
        HttpHeadCodec.Write(writer, head);
        var written = new ReadOnlySequence<byte>(writer.WrittenMemory);

        // Writing normalises whitespace to one space after each colon: up to one byte more per header field.
        if (!HttpHeadCodec.TryReadRequest(ref written, HttpHeadCodec.MaxHeadLength + HttpHeadCodec.MaxHeaderCount, out var reread)
            || !written.IsEmpty || !head.Equals(reread))
        {
            throw new InvalidOperationException("a request head did not round-trip");
        }

        var accepted = WebSocketHandshake.TryAccept(head, out var response, out var refusal);
        if (accepted != (refusal is null))
        {
            throw new InvalidOperationException("an acceptance came with a refusal reason, or a refusal without one");
        }

        writer.Clear();
        HttpHeadCodec.Write(writer, response);
        var answer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        if (!HttpHeadCodec.TryReadResponse(ref answer, out var rereadResponse) || !response.Equals(rereadResponse))
        {
            throw new InvalidOperationException("the answer to a request did not round-trip");
        }

        if (accepted && (!head.TryGetSingle("Sec-WebSocket-Key", out var key) || WebSocketHandshake.CheckResponse(response, key) is not null))
        {
            throw new InvalidOperationException("an accepted request got an answer its client would reject");
        }
    }

    private static Outcome Read(ReadOnlySequence<byte> sequence)
    {
        var input = sequence;
        try
        {
            if (!HttpHeadCodec.TryReadRequest(ref input, out var head))
            {
                return input.Length == sequence.Length
                    ? new Outcome(0, null, null)
                    : throw new InvalidOperationException("an incomplete request head consumed input");
            }

            return new Outcome(sequence.Length - input.Length, head, null);
        }
        catch (WireFormatException e)
        {
            return new Outcome(0, null, e);
        }
    }

    private sealed record Outcome(long Consumed, HttpRequestHead? Head, WireFormatException? Rejection);
}
