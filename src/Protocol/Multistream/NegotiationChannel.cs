using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace ToolNet.Protocol.Multistream;

/// <summary>
/// Reads and writes multistream-select messages on a pipe pair during one negotiation. Writes are buffered and
/// flushed only when the next read would block, so answers that can travel together (the responder's header and
/// its echo) leave in one flush. Reads consume exactly one message and leave later bytes unexamined, so data the
/// remote sent right after the negotiation stays in the pipe for the application.
/// </summary>
internal sealed class NegotiationChannel(PipeReader input, PipeWriter? output)
{
    private static readonly Func<ReadOnlySequence<byte>, string> ProtocolIdDecoder = MultistreamMessage.DecodeUtf8;
    private static readonly Func<ReadOnlySequence<byte>, IReadOnlyList<string>> ProtocolListDecoder = MultistreamMessage.ReadProtocolList;

    private bool unflushed;

    public void Write(string message)
    {
        MultistreamMessage.Write(Output, message);
        unflushed = true;
    }

    public void WriteProtocolList(IReadOnlyCollection<string> protocols)
    {
        MultistreamMessage.WriteProtocolList(Output, protocols);
        unflushed = true;
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (!unflushed)
        {
            return;
        }

        unflushed = false;
        var result = await Output.FlushAsync(cancellationToken);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the multistream-select flush was canceled");
        }
    }

    /// <summary>Reads one protocol-id-sized message (a header, proposal, echo, <c>na</c> or <c>ls</c>).</summary>
    /// <param name="awaiting">What we wait for, for the message when the remote closes instead.</param>
    public ValueTask<string> ReadProtocolIdAsync(string awaiting, CancellationToken cancellationToken) =>
        ReadAsync(MultistreamMessage.MaxProtocolIdMessageLength, ProtocolIdDecoder, awaiting, cancellationToken);

    /// <summary>Reads the remote's first message, which can only be the header: a length prefix other than the
    /// header's fails at once instead of waiting for a body that will not come (what noise looks like, such as a peer
    /// of another private network).</summary>
    public ValueTask<string> ReadHeaderAsync(CancellationToken cancellationToken) =>
        ReadAsync(MultistreamMessage.ProtocolId.Length + 1, ProtocolIdDecoder, "the multistream-select header", cancellationToken);

    /// <summary>Reads an <c>ls</c> response.</summary>
    public ValueTask<IReadOnlyList<string>> ReadProtocolListAsync(CancellationToken cancellationToken) =>
        ReadAsync(MultistreamMessage.MaxMessageLength, ProtocolListDecoder, "the ls response", cancellationToken);

    /// <summary>Makes remote-supplied text safe and short enough for an exception message.</summary>
    public static string Describe(string remoteText)
    {
        const int MaxShown = 100;
        var builder = new StringBuilder(Math.Min(remoteText.Length, MaxShown) + 2);
        builder.Append('\'');
        foreach (var c in remoteText.Length > MaxShown ? remoteText[..MaxShown] : remoteText)
        {
            if (char.IsControl(c))
            {
                builder.Append($"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        builder.Append(remoteText.Length > MaxShown ? "'…" : "'");
        return builder.ToString();
    }

    private PipeWriter Output => output ?? throw new InvalidOperationException("this negotiation channel is read-only");

    private async ValueTask<T> ReadAsync<T>(
        int maxMessageLength, Func<ReadOnlySequence<byte>, T> decode, string awaiting, CancellationToken cancellationToken)
    {
        var needMoreData = false;
        while (true)
        {
            // Only wait for the remote (after flushing what we owe it) when the buffered bytes hold no message.
            if (needMoreData || !input.TryRead(out var result))
            {
                await FlushAsync(cancellationToken);
                result = await input.ReadAsync(cancellationToken);
            }

            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                throw new OperationCanceledException("the pending multistream-select read was canceled");
            }

            try
            {
                if (MultistreamMessage.TryRead(ref buffer, maxMessageLength, out var body))
                {
                    var value = decode(body);

                    // consumed == examined: the bytes after this message are not examined, so the next
                    // ReadAsync (ours or the application's) returns them at once instead of waiting for more.
                    input.AdvanceTo(buffer.Start);
                    return value;
                }
            }
            catch (WireFormatException e)
            {
                input.AdvanceTo(result.Buffer.Start);
                throw new ProtocolNegotiationException(
                    NegotiationFailure.ProtocolViolation, $"malformed multistream-select message from the remote: {e.Message}", e);
            }

            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new ProtocolNegotiationException(
                    NegotiationFailure.RemoteClosed, $"the remote closed the stream while we waited for {awaiting}");
            }

            needMoreData = true;
        }
    }
}
