using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Yamux;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets for yamux: the header codec, and a whole session fed the remote's bytes.</summary>
internal static class YamuxTargets
{
    /// <summary>Header decode; a decoded header must re-encode to the same 12 bytes.</summary>
    [FuzzTarget("yamux-frame")]
    public static void Frame(ReadOnlySpan<byte> input)
    {
        var header = YamuxFrameHeader.Read(input);
        Span<byte> encoded = stackalloc byte[YamuxFrameHeader.Size];
        header.Write(encoded);
        if (!encoded.SequenceEqual(input[..YamuxFrameHeader.Size]))
        {
            throw new InvalidOperationException("yamux header did not round-trip");
        }
    }

    /// <summary>
    /// Feeds <paramref name="input"/> to a session as the remote's bytes, in reads of varying sizes split into
    /// segments, the way its read loop would (but synchronously, so that runs are deterministic). A remote that
    /// breaks the protocol must only make the session close; afterwards nothing may be left open or reserved. Never throws
    /// <see cref="Protocol.WireFormatException"/>: the session handles that itself.
    /// </summary>
    [FuzzTarget("yamux-session")]
    public static void Session(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var transport = new UnusedTransport();
        var session = new YamuxSession(transport, Direction.Outbound, YamuxOptions.Default with { KeepAliveInterval = null }, NullLogger.Instance, UnlimitedMuxerResources.Instance);
        var consumed = 0;
        var end = 0;
        for (var read = 0; end < bytes.Length; read++)
        {
            end = Math.Min(bytes.Length, end + 1 + (read * 37 % 97));
            var buffer = SegmentedSequence.Create(bytes.AsMemory(consumed, end - consumed), 1 + (read * 13 % 29));
            var keepReading = session.ProcessReceived(ref buffer);
            consumed = end - (int)buffer.Length;
            if (!keepReading)
            {
                break;
            }
        }

        session.Teardown();
        if (session.ActiveStreamCount != 0 || !session.Completion.IsCompleted)
        {
            throw new InvalidOperationException($"yamux session left {session.ActiveStreamCount} streams open after closing");
        }

        if (session.ReservedReceiveBytes != 0)
        {
            throw new InvalidOperationException($"yamux session left {session.ReservedReceiveBytes} receive bytes reserved after closing");
        }
    }

    /// <summary>The session's loops are not started here, so its transport is never touched.</summary>
    private sealed class UnusedTransport : IDuplexPipe
    {
        private readonly Pipe _pipe = new();

        public PipeReader Input => _pipe.Reader;

        public PipeWriter Output => _pipe.Writer;
    }
}
