using System.IO.Pipelines;

namespace ToolNet.Protocol.Multistream;

/// <summary>
/// multistream-select 1.0 (<c>/multistream/1.0.0</c>) negotiation over a pipe pair, as specified in libp2p/specs
/// <c>connections/README.md</c> ("Protocol Negotiation"): both sides send the header, the initiator proposes
/// protocol ids one at a time, the responder echoes the one it accepts or answers <c>na</c>.
/// The methods never close the pipe: when they throw, the caller closes or resets the stream.
/// Failures are <see cref="ProtocolNegotiationException"/>; cancellation is <see cref="OperationCanceledException"/>;
/// transport errors pass through unchanged.
/// </summary>
public static class MultistreamSelect
{
    /// <summary>How many unsuccessful proposals (and <c>ls</c> requests) a responder answers before giving up.</summary>
    public const int MaxProposals = 32;

    /// <summary>
    /// Initiator: sends the header together with the first proposal (one flush), then tries
    /// <paramref name="protocols"/> in order until the remote echoes one.
    /// </summary>
    /// <returns>The agreed protocol id; the pipe then carries that protocol.</returns>
    /// <exception cref="ProtocolNegotiationException">The remote supports none of them, misbehaves, or closes.</exception>
    public static async ValueTask<string> SelectAsync(IDuplexPipe pipe, IReadOnlyList<string> protocols, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(protocols);
        if (protocols.Count == 0)
        {
            throw new ArgumentException("at least one protocol must be proposed", nameof(protocols));
        }

        foreach (var protocol in protocols)
        {
            ValidateProtocolId(protocol, nameof(protocols));
        }

        var channel = new NegotiationChannel(pipe.Input, pipe.Output);
        channel.Write(MultistreamMessage.ProtocolId);
        channel.Write(protocols[0]);
        await channel.FlushAsync(cancellationToken);
        await ReadHeaderAsync(channel, cancellationToken);
        for (var i = 0; i < protocols.Count; i++)
        {
            if (i > 0)
            {
                channel.Write(protocols[i]);
            }

            if (await ReadAnswerAsync(channel, protocols[i], cancellationToken))
            {
                return protocols[i];
            }
        }

        throw new ProtocolNegotiationException(
            NegotiationFailure.NotSupported,
            $"the remote supports none of the proposed protocols: {string.Join(", ", protocols)}");
    }

    /// <summary>
    /// Optimistic initiator for one protocol: writes the header and the proposal into <paramref name="pipe"/>'s
    /// output (unflushed) and returns at once. The caller writes its data right away through the returned pipe;
    /// the first flush carries header, proposal and data together. The remote's header and echo are checked on
    /// the first read; an <c>na</c> fails the next read and flush with <see cref="ProtocolNegotiationException"/>.
    /// </summary>
    /// <remarks>
    /// Use <see cref="SelectAsync"/> instead when the remote might be js-libp2p (3.3.11 at least) and the stream
    /// could be half-closed straight after a short request: js never reports end-of-stream on a stream whose
    /// proposal, data and FIN arrive together. The returned pipe already defers the FIN of its own
    /// <see cref="IDuplexPipe.Output"/> until the confirmation has arrived (see <see cref="LazyNegotiatedPipe"/>).
    /// The returned pipe must be used instead of <paramref name="pipe"/> from now on.
    /// </remarks>
    public static LazyNegotiatedPipe SelectLazily(IDuplexPipe pipe, string protocol)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ValidateProtocolId(protocol, nameof(protocol));
        return new LazyNegotiatedPipe(pipe, protocol);
    }

    /// <summary>Responder accepting exactly the ids in <paramref name="supported"/> (and listing them on <c>ls</c>).</summary>
    /// <inheritdoc cref="HandleAsync(IDuplexPipe, Func{string, bool}, IReadOnlyCollection{string}, CancellationToken)"/>
    public static ValueTask<string> HandleAsync(IDuplexPipe pipe, IReadOnlyCollection<string> supported, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(supported);
        return HandleAsync(pipe, supported.Contains, supported, cancellationToken);
    }

    /// <summary>
    /// Responder: reads the initiator's header and answers it with ours, then answers each proposal with its echo
    /// when <paramref name="accepts"/> says yes, with <c>na</c> otherwise, and <c>ls</c> with
    /// <paramref name="advertised"/>. Our header leaves as soon as the initiator's has arrived (with the first
    /// answer when the proposal came along with it). After <see cref="MaxProposals"/> unsuccessful requests it gives up.
    /// </summary>
    /// <returns>The accepted protocol id; bytes the remote sent after the proposal stay in <see cref="IDuplexPipe.Input"/>.</returns>
    /// <exception cref="ProtocolNegotiationException">Bad header, malformed message, remote closed, or too many attempts.</exception>
    public static async ValueTask<string> HandleAsync(
        IDuplexPipe pipe, Func<string, bool> accepts, IReadOnlyCollection<string> advertised, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        ArgumentNullException.ThrowIfNull(accepts);
        ArgumentNullException.ThrowIfNull(advertised);
        var channel = new NegotiationChannel(pipe.Input, pipe.Output);
        await ReadHeaderAsync(channel, cancellationToken);

        // The spec lets both sides send the header without waiting; sending ours once the initiator's has
        // arrived is never later than an initiator that waits for it needs, and lets it share a flush.
        channel.Write(MultistreamMessage.ProtocolId);
        var rejected = new List<string>();
        for (var attempt = 0; attempt < MaxProposals; attempt++)
        {
            var awaiting = rejected.Count == 0
                ? "a protocol proposal"
                : $"a protocol proposal after rejecting {string.Join(", ", rejected.Select(NegotiationChannel.Describe))}";
            var proposal = await channel.ReadProtocolIdAsync(awaiting, cancellationToken);
            if (proposal == MultistreamMessage.List)
            {
                channel.WriteProtocolList(advertised);
                continue;
            }

            if (proposal != MultistreamMessage.NotAvailable && accepts(proposal))
            {
                channel.Write(proposal);
                await channel.FlushAsync(cancellationToken);
                return proposal;
            }

            channel.Write(MultistreamMessage.NotAvailable);
            rejected.Add(proposal);
        }

        await channel.FlushAsync(cancellationToken);
        throw new ProtocolNegotiationException(
            NegotiationFailure.TooManyAttempts,
            $"the remote made {MaxProposals} requests without proposing a supported protocol");
    }

    /// <summary>
    /// Initiator: asks the responder for its protocol list (<c>ls</c>). The stream is spent afterwards: the caller
    /// closes it (the responder then reports <see cref="NegotiationFailure.RemoteClosed"/>).
    /// </summary>
    /// <exception cref="ProtocolNegotiationException">The remote misbehaves or closes.</exception>
    public static async ValueTask<IReadOnlyList<string>> ListAsync(IDuplexPipe pipe, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        var channel = new NegotiationChannel(pipe.Input, pipe.Output);
        channel.Write(MultistreamMessage.ProtocolId);
        channel.Write(MultistreamMessage.List);
        await channel.FlushAsync(cancellationToken);
        await ReadHeaderAsync(channel, cancellationToken);
        return await channel.ReadProtocolListAsync(cancellationToken);
    }

    /// <summary>Reads the remote's header; per the spec anything else as the first message aborts the negotiation.</summary>
    internal static async ValueTask ReadHeaderAsync(NegotiationChannel channel, CancellationToken cancellationToken)
    {
        var header = await channel.ReadHeaderAsync(cancellationToken);
        if (header != MultistreamMessage.ProtocolId)
        {
            throw new ProtocolNegotiationException(
                NegotiationFailure.ProtocolViolation,
                $"the remote's first message was {NegotiationChannel.Describe(header)}, not the header '{MultistreamMessage.ProtocolId}'");
        }
    }

    /// <summary>Reads the answer to <paramref name="proposal"/>: true for its echo, false for <c>na</c>.</summary>
    /// <exception cref="ProtocolNegotiationException">Any other answer, malformed input, or the remote closed.</exception>
    internal static async ValueTask<bool> ReadAnswerAsync(NegotiationChannel channel, string proposal, CancellationToken cancellationToken)
    {
        var answer = await channel.ReadProtocolIdAsync(
            $"the answer to our proposal {NegotiationChannel.Describe(proposal)}", cancellationToken);
        if (answer == proposal)
        {
            return true;
        }

        if (answer == MultistreamMessage.NotAvailable)
        {
            return false;
        }

        throw new ProtocolNegotiationException(
            NegotiationFailure.ProtocolViolation,
            $"the remote answered our proposal {NegotiationChannel.Describe(proposal)} with {NegotiationChannel.Describe(answer)}, which is neither its echo nor 'na'");
    }

    /// <summary>Checks that <paramref name="protocol"/> can be proposed: non-empty, at most 1 KiB of UTF-8,
    /// no newline, and not one of the reserved words <c>na</c> and <c>ls</c>.</summary>
    private static void ValidateProtocolId(string protocol, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(protocol, parameterName);
        if (protocol is MultistreamMessage.NotAvailable or MultistreamMessage.List)
        {
            throw new ArgumentException($"'{protocol}' is a multistream-select command, not a protocol id", parameterName);
        }

        if (protocol.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException("a protocol id may not contain a newline", parameterName);
        }

        if (MultistreamMessage.GetByteCount(protocol) > MultistreamMessage.MaxProtocolIdLength)
        {
            throw new ArgumentException($"a protocol id may not exceed {MultistreamMessage.MaxProtocolIdLength} UTF-8 bytes", parameterName);
        }
    }
}
