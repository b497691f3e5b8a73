using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>An <see cref="IDuplexPipe"/> made of a reader and a writer.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;

    /// <summary>Two in-memory transports wired to each other, like the two ends of a connection.</summary>
    public static (DuplexPipe A, DuplexPipe B) CreatePair()
    {
        var aToB = new Pipe();
        var bToA = new Pipe();
        return (new DuplexPipe(bToA.Reader, aToB.Writer), new DuplexPipe(aToB.Reader, bToA.Writer));
    }
}

/// <summary>Records log entries, to check that a closed connection says why.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Entries.Enqueue((logLevel, formatter(state, exception)));
}

/// <summary>Builds multi-segment sequences, to exercise parsers across segment boundaries.</summary>
internal static class Segments
{
    /// <summary>Splits <paramref name="data"/> into segments at every multiple of <paramref name="segmentLength"/>.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, int segmentLength)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null;
        Segment? last = null;
        for (var offset = 0; offset < data.Length; offset += segmentLength)
        {
            var segment = new Segment(data.AsMemory(offset, Math.Min(segmentLength, data.Length - offset)), last);
            first ??= segment;
            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}

/// <summary>Completed in-memory handshakes with fresh random keys.</summary>
internal static class NoisePairs
{
    /// <summary>Runs the three XX messages in memory and returns both sides' cipher pairs.</summary>
    public static SplitCiphers Handshake(
        ReadOnlySpan<byte> initiatorPrologue = default, ReadOnlySpan<byte> responderPrologue = default)
    {
        using var initiatorStatic = X25519KeyPair.Generate();
        using var responderStatic = X25519KeyPair.Generate();
        using var initiator = new HandshakeState(true, initiatorStatic, initiatorPrologue);
        using var responder = new HandshakeState(false, responderStatic, responderPrologue);
        Exchange(initiator, responder, []);
        Exchange(responder, initiator, [2]);
        Exchange(initiator, responder, [3]);
        return new SplitCiphers(initiator.Split(), responder.Split());
    }

    /// <summary>Writes the next message of <paramref name="writer"/> and has <paramref name="reader"/> read it back.</summary>
    public static byte[] Exchange(HandshakeState writer, HandshakeState reader, byte[] payload)
    {
        var message = new byte[writer.GetMessageLength(payload.Length)];
        writer.WriteMessage(payload, message);
        var received = new byte[reader.GetPayloadLength(message.Length)];
        reader.ReadMessage(message, received);
        Assert.Equal(payload, received);
        return message;
    }
}

/// <summary>Both sides' transport cipher states; disposing disposes all four.</summary>
internal sealed record SplitCiphers(TransportCipherPair Initiator, TransportCipherPair Responder) : IDisposable
{
    public void Dispose()
    {
        Initiator.Sender.Dispose();
        Initiator.Receiver.Dispose();
        Responder.Sender.Dispose();
        Responder.Receiver.Dispose();
    }
}
