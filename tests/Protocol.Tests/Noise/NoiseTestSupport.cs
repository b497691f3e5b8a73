using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Crypto;
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

/// <summary>Traffic over plaintext pipes: checksummed bulk transfer, and small reads.</summary>
internal static class PipeTraffic
{
    /// <summary>Sends <paramref name="length"/> pseudo-random bytes each way at once, half-closes both directions,
    /// and checks that each side received exactly what the other sent.</summary>
    public static async Task TransferBothWaysAsync(IDuplexPipe a, IDuplexPipe b, long length)
    {
        var aSends = SendPseudoRandomAsync(a.Output, seed: 1, length);
        var bSends = SendPseudoRandomAsync(b.Output, seed: 2, length);
        var bReceives = ReceiveAllAsync(b.Input);
        var aReceives = ReceiveAllAsync(a.Input);
        await Task.WhenAll(aSends, bSends, aReceives, bReceives);
        Assert.Equal((length, await aSends), await bReceives);
        Assert.Equal((length, await bSends), await aReceives);
    }

    /// <summary>Reads to the end of <paramref name="input"/> and returns it as ASCII.</summary>
    public static async Task<string> ReadToEndAsync(PipeReader input) => Encoding.ASCII.GetString(await input.ReadToEndAsync());

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public static async Task<byte[]> ReadExactlyAsync(PipeReader input, int count)
    {
        var result = await input.ReadAtLeastAsync(count);
        Assert.True(result.Buffer.Length >= count, $"the pipe ended after {result.Buffer.Length} of {count} bytes");
        var bytes = result.Buffer.Slice(0, count).ToArray();
        input.AdvanceTo(result.Buffer.GetPosition(count));
        return bytes;
    }

    /// <summary>Writes <paramref name="length"/> seeded pseudo-random bytes in writes of varying size, then completes
    /// the writer. Returns the SHA-256 of what was written.</summary>
    private static async Task<string> SendPseudoRandomAsync(PipeWriter output, int seed, long length)
    {
        await Task.Yield();
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long sent = 0; sent < length;)
        {
            var size = (int)Math.Min(length - sent, random.Next(1, 3 * NoiseConstants.MaxPlaintextLength));
            var memory = output.GetMemory(size)[..size];
            random.NextBytes(memory.Span);
            hash.AppendData(memory.Span);
            output.Advance(size);
            sent += size;
            Assert.False((await output.FlushAsync()).IsCompleted);
        }

        await output.CompleteAsync();
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Reads to the end of <paramref name="input"/>; returns the byte count and SHA-256.</summary>
    private static async Task<(long Length, string Sha256)> ReceiveAllAsync(PipeReader input)
    {
        await Task.Yield();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            length += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await input.CompleteAsync();
        return (length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }
}

/// <summary>A transport whose output records every byte written and how it was completed, so a test can tell exactly
/// which handshake messages left and whether the connection was aborted.</summary>
internal sealed class TappedDuplexPipe(IDuplexPipe inner) : IDuplexPipe
{
    private readonly RecordingPipeWriter _output = new(inner.Output);

    public PipeReader Input { get; } = inner.Input;

    public PipeWriter Output => _output;

    /// <summary>The bytes written so far.</summary>
    public byte[] Sent => _output.Recorded;

    /// <summary>The exception the output was completed with (an abort), or null.</summary>
    public Exception? OutputError => _output.CompletionError;

    /// <summary>The lengths of the Noise messages in <see cref="Sent"/>.</summary>
    public IReadOnlyList<long> SentMessageLengths()
    {
        var lengths = new List<long>();
        var remaining = new ReadOnlySequence<byte>(Sent);
        while (NoiseFrameCodec.TryReadMessage(ref remaining, out var message))
        {
            lengths.Add(message.Length);
        }

        Assert.True(remaining.IsEmpty, "a partial Noise frame was sent");
        return lengths;
    }

    /// <summary>Forwards to an inner writer and keeps a copy of everything advanced.</summary>
    private sealed class RecordingPipeWriter(PipeWriter inner) : PipeWriter
    {
        private readonly ArrayBufferWriter<byte> _recorded = new();
        private readonly Lock _lock = new();
        private Memory<byte> _current;

        public Exception? CompletionError { get; private set; }

        public byte[] Recorded
        {
            get
            {
                lock (_lock)
                {
                    return _recorded.WrittenSpan.ToArray();
                }
            }
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _current = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            lock (_lock)
            {
                _recorded.Write(_current.Span[..bytes]);
            }

            _current = _current[bytes..];
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            CompletionError = exception;
            inner.Complete(exception);
        }

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            CompletionError = exception;
            return inner.CompleteAsync(exception);
        }
    }
}

/// <summary>One identity key of each type, generated once for a test class (RSA key generation is slow).</summary>
public sealed class IdentityKeys
{
    private readonly Dictionary<KeyType, PrivateKey> _keys = Enum.GetValues<KeyType>().ToDictionary(type => type, PrivateKey.Generate);

    public PrivateKey this[KeyType type] => _keys[type];
}

/// <summary>A hand-driven libp2p Noise peer that sends whatever payload a test builds (the raw
/// <see cref="NoiseHandshake"/> driver, accepting anything the other side sends).</summary>
internal static class RawNoisePeer
{
    /// <summary>Runs the handshake for one role; returns the exception that ended it, or null when it completed.</summary>
    public static async Task<Exception?> RunAsync(IDuplexPipe transport, bool initiator, X25519KeyPair staticKey, byte[] payload)
    {
        using var handshake = new HandshakeState(initiator, staticKey);
        try
        {
            var result = await NoiseHandshake.RunAsync(transport, handshake, payload, (_, _) => { });
            result.Ciphers.Sender.Dispose();
            result.Ciphers.Receiver.Dispose();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    /// <summary>A payload: <paramref name="claimedIdentity"/> (default: the signer's key) and the signer's signature
    /// over <paramref name="signedStaticKey"/>.</summary>
    public static byte[] Payload(PrivateKey signer, ReadOnlySpan<byte> signedStaticKey, PublicKey? claimedIdentity = null, NoiseExtensions? extensions = null) =>
        new NoiseHandshakePayload
        {
            IdentityKey = (claimedIdentity ?? signer.GetPublicKey()).ToProtobuf(),
            IdentitySignature = NoiseIdentityProof.Sign(signer, signedStaticKey),
            Extensions = extensions,
        }.ToBytes();
}
