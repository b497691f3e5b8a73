using System.Buffers;
using System.IO.Pipelines;

namespace ToolNet.Protocol.Noise;

/// <summary>Inspects the remote's handshake payload together with the static key it was sent with, and throws to
/// reject the peer (the libp2p layer verifies <c>identity_sig</c> over the static key here).</summary>
public delegate void NoiseRemotePayloadCheck(ReadOnlySpan<byte> remoteStaticPublicKey, ReadOnlySpan<byte> payload);

/// <summary>The outcome of a completed handshake. The caller owns <see cref="Ciphers"/>.</summary>
/// <param name="Ciphers">The transport cipher states, oriented for this side.</param>
/// <param name="RemoteStaticPublicKey">The remote's static X25519 key.</param>
/// <param name="RemotePayload">The remote's handshake payload (message 2 from a responder, message 3 from an initiator),
/// already accepted by the <see cref="NoiseRemotePayloadCheck"/>.</param>
/// <param name="HandshakeHash">The final handshake hash, equal on both sides.</param>
public sealed record NoiseHandshakeResult(TransportCipherPair Ciphers, byte[] RemoteStaticPublicKey, byte[] RemotePayload, byte[] HandshakeHash);

/// <summary>
/// Drives an XX <see cref="HandshakeState"/> over a raw framed transport in the libp2p message order
/// (libp2p/specs noise/README.md, "The libp2p Handshake Payload"): message 1 carries no payload, the responder's
/// payload goes in message 2 and the initiator's in message 3. The payloads are opaque here; the caller supplies its own
/// and checks the remote's through <see cref="NoiseRemotePayloadCheck"/> before the handshake goes on (so an
/// initiator never sends message 3 to an unacceptable responder). Bytes the remote sent after its last handshake
/// message stay unread in <see cref="IDuplexPipe.Input"/>.
/// </summary>
public static class NoiseHandshake
{
    /// <summary>Runs the handshake for <paramref name="handshake"/>'s role. Throws <see cref="WireFormatException"/>
    /// for a malformed or unauthenticated message, <see cref="IOException"/> when the transport ends early, and
    /// whatever <paramref name="checkRemote"/> throws.</summary>
    public static async ValueTask<NoiseHandshakeResult> RunAsync(
        IDuplexPipe transport,
        HandshakeState handshake,
        ReadOnlyMemory<byte> localPayload,
        NoiseRemotePayloadCheck checkRemote,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(handshake);
        ArgumentNullException.ThrowIfNull(checkRemote);
        if (handshake.MessageIndex != 0)
        {
            throw new ArgumentException("the handshake has already started", nameof(handshake));
        }

        byte[] remotePayload;
        if (handshake.IsInitiator)
        {
            await WriteAsync(transport.Output, handshake, ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            remotePayload = await ReadAsync(transport.Input, handshake, cancellationToken).ConfigureAwait(false);
            checkRemote(handshake.RemoteStaticPublicKey, remotePayload);
            await WriteAsync(transport.Output, handshake, localPayload, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Message 1 has no libp2p payload; whatever an initiator puts there is unauthenticated and ignored.
            await ReadAsync(transport.Input, handshake, cancellationToken).ConfigureAwait(false);
            await WriteAsync(transport.Output, handshake, localPayload, cancellationToken).ConfigureAwait(false);
            remotePayload = await ReadAsync(transport.Input, handshake, cancellationToken).ConfigureAwait(false);
            checkRemote(handshake.RemoteStaticPublicKey, remotePayload);
        }

        return new NoiseHandshakeResult(handshake.Split(), handshake.RemoteStaticPublicKey.ToArray(), remotePayload, handshake.HandshakeHash.ToArray());
    }

    private static async ValueTask WriteAsync(PipeWriter output, HandshakeState handshake, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        NoiseFrameCodec.WriteHandshakeMessage(output, handshake, payload.Span);
        var flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCompleted)
        {
            throw new IOException("the transport closed during the Noise handshake");
        }
    }

    private static async ValueTask<byte[]> ReadAsync(PipeReader input, HandshakeState handshake, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (NoiseFrameCodec.TryReadMessage(ref buffer, out var message))
            {
                try
                {
                    return ReadMessage(handshake, message);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start);
                }
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new IOException("the transport ended during the Noise handshake");
            }
        }
    }

    private static byte[] ReadMessage(HandshakeState handshake, in ReadOnlySequence<byte> message)
    {
        var payload = new byte[handshake.GetPayloadLength((int)message.Length)];
        if (message.IsSingleSegment)
        {
            handshake.ReadMessage(message.FirstSpan, payload);
            return payload;
        }

        var contiguous = ArrayPool<byte>.Shared.Rent((int)message.Length);
        try
        {
            message.CopyTo(contiguous);
            handshake.ReadMessage(contiguous.AsSpan(0, (int)message.Length), payload);
            return payload;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(contiguous, clearArray: true);
        }
    }
}
