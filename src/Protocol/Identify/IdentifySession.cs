using System.IO.Pipelines;

namespace ToolNet.Protocol.Identify;

/// <summary>
/// One identify stream, either direction: the side being identified (or pushing) sends a message and half-closes;
/// the other side reads until end-of-stream. The methods never close or reset the stream; the caller does.
/// </summary>
/// <remarks>
/// The spec has the sender return "an Identify message" and close the stream. Some implementations split a large
/// message into several length-prefixed messages on the same stream, which protobuf merging makes equivalent to one;
/// <see cref="ReceiveAsync"/> therefore reads every message until end-of-stream and merges them, while
/// <see cref="SendAsync"/> always sends exactly one, which satisfies readers of either kind.
/// </remarks>
public static class IdentifySession
{
    /// <summary>The most messages one stream may carry before the reader gives up on it.</summary>
    public const int MaxMessagesPerStream = 16;

    /// <summary>Writes <paramref name="message"/>, length-prefixed, and flushes. The caller then half-closes.</summary>
    /// <exception cref="IOException">The stream failed or the remote stopped reading.</exception>
    public static async ValueTask SendAsync(PipeWriter output, IdentifyMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        IdentifyCodec.WriteDelimited(message, output);
        var flush = await output.FlushAsync(cancellationToken);
        if (flush.IsCompleted)
        {
            throw new IOException("the remote stopped reading before the identify message was sent");
        }
    }

    /// <summary>Reads messages until end-of-stream and returns them merged.</summary>
    /// <exception cref="WireFormatException">A malformed or oversized message, more than
    /// <see cref="MaxMessagesPerStream"/> messages, a message cut off by end-of-stream, or no message at all.</exception>
    /// <exception cref="IOException">The stream failed or was reset.</exception>
    public static async ValueTask<IdentifyMessage> ReceiveAsync(PipeReader input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        IdentifyMessage? merged = null;
        var count = 0;
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            try
            {
                while (IdentifyCodec.TryReadDelimited(ref buffer, merged, out var message))
                {
                    if (++count > MaxMessagesPerStream)
                    {
                        throw new WireFormatException($"the remote sent more than {MaxMessagesPerStream} identify messages on one stream");
                    }

                    merged = message;
                }

                if (read.IsCompleted)
                {
                    return !buffer.IsEmpty
                        ? throw new WireFormatException($"the stream ended {buffer.Length} bytes into an identify message")
                        : merged ?? throw new WireFormatException("the stream ended without an identify message");
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>
    /// After sending and half-closing, waits for the remote to half-close too, so the stream ends gracefully on both
    /// sides instead of racing the remote's read. Whatever the remote sends meanwhile is discarded; past
    /// <see cref="IdentifyCodec.MaxMessageLength"/> bytes it stops waiting.
    /// </summary>
    public static async ValueTask WaitForRemoteCloseAsync(PipeReader input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        long discarded = 0;
        while (discarded <= IdentifyCodec.MaxMessageLength)
        {
            var read = await input.ReadAsync(cancellationToken);
            discarded += read.Buffer.Length;
            input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }
}
