using System.Text;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// Stream muxer negotiation inside the Noise handshake (libp2p/specs connections/inlined-muxer-negotiation.md,
/// "Multiplexer Negotiation over Noise"): the responder lists its muxers in message 2, the initiator its own in
/// message 3, and the muxer is "the first item from the initiator's list that both parties support". Pure: no I/O.
/// </summary>
/// <remarks>
/// The initiator's preference wins, as in multistream-select. Early revisions of the spec's worked example (client
/// prefers yamux, server prefers mplex) gave mplex, contradicting the rule; libp2p/specs#601 corrected it to yamux.
/// </remarks>
internal static class NoiseMuxerNegotiation
{
    // Bounds what a remote's list contributes to an error message (it ends up in logs).
    private const int MaxListedMuxers = 8;
    private const int MaxListedMuxerLength = 64;

    /// <summary>
    /// Returns the agreed muxer, or null when either side sent no list (an older peer: the muxer is negotiated with
    /// multistream-select after the handshake).
    /// </summary>
    /// <exception cref="NoiseHandshakeException">Both sides sent a list and they have nothing in common: the spec says
    /// the handshake MUST fail.</exception>
    public static string? Select(IReadOnlyList<string> initiatorMuxers, IReadOnlyList<string> responderMuxers)
    {
        if (initiatorMuxers.Count == 0 || responderMuxers.Count == 0)
        {
            return null;
        }

        foreach (var muxer in initiatorMuxers)
        {
            foreach (var supported in responderMuxers)
            {
                if (string.Equals(muxer, supported, StringComparison.Ordinal))
                {
                    return muxer;
                }
            }
        }

        throw new NoiseHandshakeException(
            $"no stream muxer in common: the initiator offered [{Describe(initiatorMuxers)}], the responder [{Describe(responderMuxers)}]");
    }

    /// <summary>The muxer list for a log line: at most a few entries, each shortened, control characters replaced.</summary>
    private static string Describe(IReadOnlyList<string> muxers)
    {
        var text = new StringBuilder();
        for (var i = 0; i < Math.Min(muxers.Count, MaxListedMuxers); i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            var muxer = muxers[i];
            foreach (var c in muxer.AsSpan(0, Math.Min(muxer.Length, MaxListedMuxerLength)))
            {
                text.Append(char.IsControl(c) ? '?' : c);
            }

            if (muxer.Length > MaxListedMuxerLength)
            {
                text.Append('…');
            }
        }

        if (muxers.Count > MaxListedMuxers)
        {
            text.Append($", … {muxers.Count - MaxListedMuxers} more");
        }

        return text.ToString();
    }
}
