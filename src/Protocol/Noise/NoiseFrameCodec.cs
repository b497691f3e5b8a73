using System.Buffers;
using System.Buffers.Binary;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The noise-libp2p wire format (libp2p/specs noise/README.md, "Wire Format"): every Noise message, handshake or
/// transport, is sent as <c>noise_message_len</c> (16-bit big-endian) followed by the message. A transport message
/// is ChaCha20-Poly1305 ciphertext plus a 16-byte tag, so one frame carries at most 65519 plaintext bytes.
/// Pure: no I/O; encryption writes straight into the caller's <see cref="IBufferWriter{T}"/> memory.
/// </summary>
public static class NoiseFrameCodec
{
    /// <summary>Length of the big-endian length prefix.</summary>
    public const int LengthPrefixLength = 2;

    /// <summary>
    /// Takes the next length-prefixed Noise message off the front of <paramref name="input"/>, undecrypted.
    /// Returns false, leaving <paramref name="input"/> unchanged, when the frame is not complete yet. Any 16-bit
    /// length is a valid Noise message length, so this never fails.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> input, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (input.Length < LengthPrefixLength)
        {
            return false;
        }

        int length;
        if (input.FirstSpan.Length >= LengthPrefixLength)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(input.FirstSpan);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[LengthPrefixLength];
            input.Slice(0, LengthPrefixLength).CopyTo(prefix);
            length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
        }

        if (input.Length - LengthPrefixLength < length)
        {
            return false;
        }

        message = input.Slice(LengthPrefixLength, length);
        input = input.Slice(message.End);
        return true;
    }

    /// <summary>
    /// Takes the next transport frame off <paramref name="input"/>, decrypts it with <paramref name="receiver"/> and
    /// appends the plaintext to <paramref name="plaintext"/>. Returns false when the frame is not complete yet. A frame
    /// shorter than a tag throws <see cref="WireFormatException"/>; a frame that fails authentication throws
    /// <see cref="NoiseAuthenticationException"/>. On failure neither <paramref name="input"/> nor the writer advances.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> input, CipherState receiver, IBufferWriter<byte> plaintext, out int plaintextLength)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        ArgumentNullException.ThrowIfNull(plaintext);
        var remaining = input;
        if (!TryReadMessage(ref remaining, out var message))
        {
            plaintextLength = 0;
            return false;
        }

        var messageLength = (int)message.Length;
        if (messageLength < NoiseConstants.TagLength)
        {
            throw new WireFormatException($"a Noise transport message of {messageLength} bytes is shorter than its {NoiseConstants.TagLength}-byte tag");
        }

        var destination = plaintext.GetSpan(messageLength);
        if (message.IsSingleSegment)
        {
            plaintextLength = receiver.Decrypt(message.FirstSpan, destination);
        }
        else
        {
            message.CopyTo(destination);
            plaintextLength = receiver.DecryptInPlace(destination[..messageLength]);
        }

        plaintext.Advance(plaintextLength);
        input = remaining;
        return true;
    }

    /// <summary>Encrypts <paramref name="plaintext"/> (at most 65519 bytes) with <paramref name="sender"/> as one frame,
    /// directly into <paramref name="output"/>. Returns the number of bytes written (prefix + ciphertext).</summary>
    public static int WriteFrame(IBufferWriter<byte> output, CipherState sender, ReadOnlySpan<byte> plaintext)
    {
        var frame = BeginFrame(output, sender, plaintext.Length, out var messageLength);
        sender.Encrypt(plaintext, frame.Slice(LengthPrefixLength, messageLength));
        return EndFrame(output, messageLength);
    }

    /// <summary>Encrypts <paramref name="plaintext"/> (at most 65519 bytes, possibly in several segments) as one frame,
    /// directly into <paramref name="output"/>. Returns the number of bytes written.</summary>
    public static int WriteFrame(IBufferWriter<byte> output, CipherState sender, in ReadOnlySequence<byte> plaintext)
    {
        if (plaintext.IsSingleSegment)
        {
            return WriteFrame(output, sender, plaintext.FirstSpan);
        }

        var frame = BeginFrame(output, sender, checked((int)plaintext.Length), out var messageLength);
        var message = frame.Slice(LengthPrefixLength, messageLength);
        plaintext.CopyTo(message);
        sender.EncryptInPlace(message, (int)plaintext.Length);
        return EndFrame(output, messageLength);
    }

    /// <summary>Writes the next handshake message of <paramref name="handshake"/>, carrying <paramref name="payload"/>,
    /// as one frame directly into <paramref name="output"/>. Returns the number of bytes written.</summary>
    public static int WriteHandshakeMessage(IBufferWriter<byte> output, HandshakeState handshake, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(handshake);
        var messageLength = handshake.GetMessageLength(payload.Length);
        var frame = output.GetSpan(LengthPrefixLength + messageLength);
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)messageLength);
        handshake.WriteMessage(payload, frame.Slice(LengthPrefixLength, messageLength));
        return EndFrame(output, messageLength);
    }

    private static Span<byte> BeginFrame(IBufferWriter<byte> output, CipherState sender, int plaintextLength, out int messageLength)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(sender);
        if (plaintextLength > NoiseConstants.MaxPlaintextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintextLength), plaintextLength, $"a Noise frame carries at most {NoiseConstants.MaxPlaintextLength} plaintext bytes");
        }

        messageLength = plaintextLength + NoiseConstants.TagLength;
        var frame = output.GetSpan(LengthPrefixLength + messageLength);
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)messageLength);
        return frame;
    }

    private static int EndFrame(IBufferWriter<byte> output, int messageLength)
    {
        output.Advance(LengthPrefixLength + messageLength);
        return LengthPrefixLength + messageLength;
    }
}
