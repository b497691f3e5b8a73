using System.Buffers;
using System.Runtime.ExceptionServices;
using ToolNet.Protocol;
using ToolNet.Protocol.Noise;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets for noise-libp2p.</summary>
internal static class NoiseTargets
{
    /// <summary>The transport key the <c>noise-frame</c> seeds are encrypted with: bytes 0x00..0x1f.</summary>
    private static ReadOnlySpan<byte> FrameKey =>
    [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    ];

    /// <summary>
    /// Frame codec plus decryption under <see cref="FrameKey"/>: reads frames from the input, contiguous and again
    /// cut into 7-byte segments; both readings must agree, and re-encrypting the plaintexts (same key, same nonces)
    /// must give back exactly the bytes consumed. A bad frame is then reported as the clean rejection it is.
    /// </summary>
    [FuzzTarget("noise-frame")]
    public static void Frame(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var (consumed, plaintext, lengths, rejection) = ReadFrames(new ReadOnlySequence<byte>(bytes));
        var (segmentedConsumed, segmentedPlaintext, segmentedLengths, segmentedRejection) = ReadFrames(SevenByteSegment.Split(bytes));
        if (consumed != segmentedConsumed || !plaintext.SequenceEqual(segmentedPlaintext) || !lengths.SequenceEqual(segmentedLengths)
            || rejection?.GetType() != segmentedRejection?.GetType())
        {
            throw new InvalidOperationException("noise frames read differently across segment boundaries");
        }

        using var sender = new CipherState(FrameKey);
        var reencoded = new ArrayBufferWriter<byte>();
        var offset = 0;
        foreach (var length in lengths)
        {
            NoiseFrameCodec.WriteFrame(reencoded, sender, plaintext.AsSpan(offset, length));
            offset += length;
        }

        if (!reencoded.WrittenSpan.SequenceEqual(input[..(int)consumed]))
        {
            throw new InvalidOperationException("noise frames did not round-trip");
        }

        if (rejection is not null)
        {
            ExceptionDispatchInfo.Throw(rejection);
        }
    }

    /// <summary>
    /// NoiseHandshakePayload decode; whatever decodes must re-encode to a canonical form that decodes to the same
    /// fields and re-encodes to the same bytes.
    /// </summary>
    [FuzzTarget("noise-payload")]
    public static void Payload(ReadOnlySpan<byte> input)
    {
        var decoded = NoiseHandshakePayload.Decode(input);
        var canonical = decoded.ToBytes();
        var again = NoiseHandshakePayload.Decode(canonical);
        if (!SameFields(decoded, again) || !again.ToBytes().AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("noise handshake payload did not round-trip");
        }
    }

    private static bool SameFields(NoiseHandshakePayload a, NoiseHandshakePayload b) =>
        a.IdentityKey.Span.SequenceEqual(b.IdentityKey.Span)
        && a.IdentitySignature.Span.SequenceEqual(b.IdentitySignature.Span)
        && (a.Extensions is null) == (b.Extensions is null)
        && (a.Extensions is null || (
            a.Extensions.StreamMuxers.SequenceEqual(b.Extensions!.StreamMuxers, StringComparer.Ordinal)
            && a.Extensions.WebTransportCertHashes.Count == b.Extensions.WebTransportCertHashes.Count
            && a.Extensions.WebTransportCertHashes.Zip(b.Extensions.WebTransportCertHashes).All(p => p.First.Span.SequenceEqual(p.Second.Span))));

    private static (long Consumed, byte[] Plaintext, List<int> Lengths, WireFormatException? Rejection) ReadFrames(ReadOnlySequence<byte> input)
    {
        using var receiver = new CipherState(FrameKey);
        var plaintext = new ArrayBufferWriter<byte>();
        var lengths = new List<int>();
        var remaining = input;
        WireFormatException? rejection = null;
        try
        {
            while (NoiseFrameCodec.TryReadFrame(ref remaining, receiver, plaintext, out var length))
            {
                lengths.Add(length);
            }
        }
        catch (WireFormatException ex)
        {
            // A bad frame ends the stream, as it ends a connection; what came before it stays decoded.
            rejection = ex;
        }

        return (input.Length - remaining.Length, plaintext.WrittenSpan.ToArray(), lengths, rejection);
    }

    /// <summary>Splits input into 7-byte segments, so that decoders meet every boundary case (also used by other targets).</summary>
    internal sealed class SevenByteSegment : ReadOnlySequenceSegment<byte>
    {
        private SevenByteSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var first = new SevenByteSegment(bytes.AsMemory(0, Math.Min(7, bytes.Length)), 0);
            var last = first;
            for (var offset = 7; offset < bytes.Length; offset += 7)
            {
                var next = new SevenByteSegment(bytes.AsMemory(offset, Math.Min(7, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
