using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Security.Cryptography;

namespace ToolNet.Protocol.Ping;

/// <summary>
/// One ping stream (libp2p/specs <c>ping/ping.md</c>): the dialer sends 32 random bytes, the listener echoes them, and
/// the dialer may repeat on the same stream. The methods never close or reset the stream; the caller does.
/// </summary>
public static class PingSession
{
    /// <summary>The size of a ping payload.</summary>
    public const int PayloadLength = 32;

    /// <summary>Pings <paramref name="count"/> times in a row on one stream.</summary>
    /// <returns>The round-trip time of each ping, in order.</returns>
    /// <exception cref="PingException">An echo differed from its payload, or the remote closed before echoing.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<IReadOnlyList<TimeSpan>> PingAsync(IDuplexPipe stream, int count, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var payload = new byte[PayloadLength];
        var roundTrips = new TimeSpan[count];
        for (var i = 0; i < count; i++)
        {
            roundTrips[i] = await PingOnceAsync(stream, payload, cancellationToken);
        }

        return roundTrips;
    }

    /// <summary>
    /// Sends one payload of fresh random bytes (written into <paramref name="payload"/>, which must be
    /// <see cref="PayloadLength"/> bytes) and waits for its echo. The round trip is timed from just before the flush
    /// to the arrival of the whole echo.
    /// </summary>
    /// <exception cref="PingException">The echo differed from the payload, or the remote closed before echoing.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<TimeSpan> PingOnceAsync(IDuplexPipe stream, byte[] payload, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentOutOfRangeException.ThrowIfNotEqual(payload.Length, PayloadLength, nameof(payload));
        RandomNumberGenerator.Fill(payload);
        stream.Output.Write(payload);
        var started = Stopwatch.GetTimestamp();
        var flush = await stream.Output.FlushAsync(cancellationToken);
        if (flush.IsCompleted)
        {
            throw new PingException("the remote stopped reading before the ping was sent");
        }

        while (true)
        {
            var read = await stream.Input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length >= PayloadLength)
            {
                var elapsed = Stopwatch.GetElapsedTime(started);
                var matches = buffer.Length == PayloadLength && Matches(buffer, payload);
                stream.Input.AdvanceTo(buffer.End);
                return matches ? elapsed : throw new PingException(
                    buffer.Length == PayloadLength ? "the ping echo differs from the payload" : $"the remote sent {buffer.Length} bytes in answer to a {PayloadLength}-byte ping");
            }

            stream.Input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new PingException($"the remote closed the stream after echoing {buffer.Length} of {PayloadLength} bytes");
            }
        }
    }

    /// <summary>
    /// Listener: echoes every whole 32-byte payload until the dialer half-closes. Payloads that arrive together are
    /// echoed together; reading waits while the echo cannot be flushed, so a dialer that does not read is held back.
    /// </summary>
    /// <returns>How many payloads were echoed.</returns>
    /// <exception cref="WireFormatException">The stream ended inside a payload (the whole ones before it were echoed).</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<long> EchoAsync(IDuplexPipe stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long echoed = 0;
        while (true)
        {
            var read = await stream.Input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            var whole = buffer.Length - (buffer.Length % PayloadLength);
            foreach (var segment in buffer.Slice(0, whole))
            {
                stream.Output.Write(segment.Span);
            }

            echoed += whole / PayloadLength;
            stream.Input.AdvanceTo(buffer.GetPosition(whole), buffer.End);
            if (whole > 0 && (await stream.Output.FlushAsync(cancellationToken)).IsCompleted)
            {
                return echoed;
            }

            if (read.IsCompleted)
            {
                var partial = buffer.Length - whole;
                return partial == 0
                    ? echoed
                    : throw new WireFormatException($"the ping stream ended {partial} bytes into a {PayloadLength}-byte payload");
            }
        }
    }

    private static bool Matches(ReadOnlySequence<byte> echo, byte[] payload)
    {
        Span<byte> received = stackalloc byte[PayloadLength];
        echo.CopyTo(received);
        return received.SequenceEqual(payload);
    }
}
