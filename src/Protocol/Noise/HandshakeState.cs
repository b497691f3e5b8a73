using System.Security.Cryptography;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The Noise HandshakeState (Noise spec §5.3) for <c>Noise_XX_25519_ChaChaPoly_SHA256</c>, the one pattern
/// libp2p uses (libp2p/specs noise/README.md, "Handshake Pattern"):
/// <code>
/// XX:
///   -> e
///   &lt;- e, ee, s, es
///   -> s, se
/// </code>
/// Payloads are opaque bytes: the libp2p layer puts its signed NoiseHandshakePayload into message 2 (responder)
/// and message 3 (initiator) and leaves message 1 empty; this type neither builds nor inspects them. Messages
/// are produced and consumed one at a time, in order; after the third, <see cref="Split"/> yields the transport
/// cipher states. Any failure while reading leaves the state unusable. Not thread-safe.
/// </summary>
public sealed class HandshakeState : IDisposable
{
    private const int MessageCount = 3;

    private readonly SymmetricState _symmetric;
    private readonly X25519KeyPair _localStatic;
    private readonly Func<X25519KeyPair> _ephemeralKeyFactory;
    private readonly byte[] _remoteEphemeral = new byte[NoiseConstants.DhLength];
    private readonly byte[] _remoteStatic = new byte[NoiseConstants.DhLength];
    private X25519KeyPair? _localEphemeral;
    private bool _hasRemoteStatic;
    private int _messageIndex;
    private bool _failed;
    private bool _split;
    private bool _disposed;

    /// <summary>
    /// Initialize(): InitializeSymmetric(protocol name), then MixHash(prologue); XX has no pre-messages.
    /// </summary>
    /// <param name="initiator">True for the dialer, which sends messages 1 and 3.</param>
    /// <param name="localStatic">The local static Noise key <c>s</c>. The caller keeps ownership.</param>
    /// <param name="prologue">Data both sides must agree on (libp2p over TCP: empty; WebRTC: its own prologue).</param>
    /// <param name="ephemeralKeyFactory">Produces the ephemeral key <c>e</c> when the <c>e</c> token is written
    /// (default: <see cref="X25519KeyPair.Generate"/>). Only test vectors inject a fixed key. The handshake owns
    /// and disposes the key pair it returns.</param>
    public HandshakeState(bool initiator, X25519KeyPair localStatic, ReadOnlySpan<byte> prologue = default, Func<X25519KeyPair>? ephemeralKeyFactory = null)
    {
        ArgumentNullException.ThrowIfNull(localStatic);
        IsInitiator = initiator;
        _localStatic = localStatic;
        _ephemeralKeyFactory = ephemeralKeyFactory ?? X25519KeyPair.Generate;
        _symmetric = new SymmetricState(NoiseConstants.ProtocolName);
        _symmetric.MixHash(prologue);
    }

    private enum Token : byte
    {
        E,
        S,
        EE,
        ES,
        SE,
    }

    /// <summary>Whether this side is the initiator.</summary>
    public bool IsInitiator { get; }

    /// <summary>Index (0, 1, 2) of the next handshake message; 3 once the handshake is complete.</summary>
    public int MessageIndex => _messageIndex;

    /// <summary>Whether all three messages have been written or read.</summary>
    public bool IsCompleted => _messageIndex == MessageCount;

    /// <summary>Whether the next message is ours to write (otherwise ours to read, or none when complete).</summary>
    public bool IsMyTurnToWrite => !IsCompleted && (_messageIndex % 2 == 0) == IsInitiator;

    /// <summary>The local static public key.</summary>
    public ReadOnlySpan<byte> LocalStaticPublicKey => _localStatic.PublicKey;

    /// <summary>The remote static public key <c>rs</c>: empty until the message carrying it has been read
    /// (message 2 for the initiator, message 3 for the responder).</summary>
    public ReadOnlySpan<byte> RemoteStaticPublicKey => _hasRemoteStatic ? _remoteStatic : default;

    /// <summary>The handshake hash <c>h</c>. Once <see cref="IsCompleted"/> it is the same on both sides and
    /// identifies the session (Noise spec §11.2, channel binding).</summary>
    public ReadOnlySpan<byte> HandshakeHash
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _symmetric.HandshakeHash;
        }
    }

    /// <summary>The exact length of the next message we write when it carries <paramref name="payloadLength"/> bytes of payload.</summary>
    public int GetMessageLength(int payloadLength)
    {
        EnsureTurn(write: true);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        var length = GetOverhead() + payloadLength;
        if (length > NoiseConstants.MaxMessageLength)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, $"handshake message {_messageIndex + 1} would exceed {NoiseConstants.MaxMessageLength} bytes");
        }

        return length;
    }

    /// <summary>The exact payload length of the next message we read, given its length. Throws
    /// <see cref="WireFormatException"/> when the message is too short or too long to be valid.</summary>
    public int GetPayloadLength(int messageLength)
    {
        EnsureTurn(write: false);
        var overhead = GetOverhead();
        if (messageLength < overhead || messageLength > NoiseConstants.MaxMessageLength)
        {
            throw new WireFormatException($"Noise handshake message {_messageIndex + 1} has {messageLength} bytes; valid is {overhead} to {NoiseConstants.MaxMessageLength}");
        }

        return messageLength - overhead;
    }

    /// <summary>
    /// WriteMessage(payload, message_buffer): writes the next handshake message, carrying <paramref name="payload"/>,
    /// into <paramref name="message"/> (at least <see cref="GetMessageLength"/> bytes, not overlapping the payload).
    /// Returns the message length.
    /// </summary>
    public int WriteMessage(ReadOnlySpan<byte> payload, Span<byte> message)
    {
        var length = GetMessageLength(payload.Length);
        if (message.Length < length)
        {
            throw new ArgumentException($"the message buffer needs {length} bytes", nameof(message));
        }

        // A DH with a bad remote ephemeral (read in message 1) can fail here, while writing message 2.
        _failed = true;
        var offset = 0;
        foreach (var token in Pattern(_messageIndex))
        {
            switch (token)
            {
                case Token.E:
                    var ephemeral = _ephemeralKeyFactory() ?? throw new InvalidOperationException("the ephemeral key factory returned null");
                    _localEphemeral = ephemeral;
                    ephemeral.PublicKey.CopyTo(message[offset..]);
                    _symmetric.MixHash(ephemeral.PublicKey);
                    offset += NoiseConstants.DhLength;
                    break;
                case Token.S:
                    offset += _symmetric.EncryptAndHash(_localStatic.PublicKey, message[offset..]);
                    break;
                default:
                    MixDiffieHellman(token);
                    break;
            }
        }

        offset += _symmetric.EncryptAndHash(payload, message[offset..]);
        _failed = false;
        _messageIndex++;
        return offset;
    }

    /// <summary>
    /// ReadMessage(message, payload_buffer): processes the next handshake message from the remote and writes its
    /// payload into <paramref name="payload"/> (at least <see cref="GetPayloadLength"/> bytes). Returns the payload
    /// length. Throws <see cref="WireFormatException"/> (or its <see cref="NoiseAuthenticationException"/>) for a bad
    /// message, after which the handshake is dead.
    /// </summary>
    public int ReadMessage(ReadOnlySpan<byte> message, Span<byte> payload)
    {
        var payloadLength = GetPayloadLength(message.Length);
        if (payload.Length < payloadLength)
        {
            throw new ArgumentException($"the payload buffer needs {payloadLength} bytes", nameof(payload));
        }

        _failed = true;
        var offset = 0;
        foreach (var token in Pattern(_messageIndex))
        {
            switch (token)
            {
                case Token.E:
                    message.Slice(offset, NoiseConstants.DhLength).CopyTo(_remoteEphemeral);
                    _symmetric.MixHash(_remoteEphemeral);
                    offset += NoiseConstants.DhLength;
                    break;
                case Token.S:
                    var length = NoiseConstants.DhLength + (_symmetric.HasKey ? NoiseConstants.TagLength : 0);
                    _symmetric.DecryptAndHash(message.Slice(offset, length), _remoteStatic);
                    _hasRemoteStatic = true;
                    offset += length;
                    break;
                default:
                    MixDiffieHellman(token);
                    break;
            }
        }

        var written = _symmetric.DecryptAndHash(message[offset..], payload);
        _failed = false;
        _messageIndex++;
        return written;
    }

    /// <summary>
    /// Split(): derives the two transport cipher states, oriented for this side. Allowed once, after the third
    /// message. The caller owns (and must dispose) both cipher states.
    /// </summary>
    public TransportCipherPair Split()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsCompleted || _split)
        {
            throw new InvalidOperationException(_split ? "Split() was already called" : "the Noise handshake is not complete");
        }

        _split = true;
        var (initiatorToResponder, responderToInitiator) = _symmetric.Split();
        return IsInitiator
            ? new TransportCipherPair(initiatorToResponder, responderToInitiator)
            : new TransportCipherPair(responderToInitiator, initiatorToResponder);
    }

    /// <summary>Zeroes the chaining key, the handshake hash, the handshake key and the ephemeral private key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _symmetric.Dispose();
        _localEphemeral?.Dispose();
        CryptographicOperations.ZeroMemory(_remoteEphemeral);
        CryptographicOperations.ZeroMemory(_remoteStatic);
    }

    private static ReadOnlySpan<Token> Pattern(int messageIndex) => messageIndex switch
    {
        0 => [Token.E],
        1 => [Token.E, Token.EE, Token.S, Token.ES],
        _ => [Token.S, Token.SE],
    };

    /// <summary>Bytes the next message adds around its payload: 32 per <c>e</c>, 32 (+16 once keyed) per <c>s</c>,
    /// and a 16-byte tag on the payload once any DH token has keyed the cipher.</summary>
    private int GetOverhead()
    {
        var hasKey = _symmetric.HasKey;
        var overhead = 0;
        foreach (var token in Pattern(_messageIndex))
        {
            switch (token)
            {
                case Token.E:
                    overhead += NoiseConstants.DhLength;
                    break;
                case Token.S:
                    overhead += NoiseConstants.DhLength + (hasKey ? NoiseConstants.TagLength : 0);
                    break;
                default:
                    hasKey = true;
                    break;
            }
        }

        return overhead + (hasKey ? NoiseConstants.TagLength : 0);
    }

    /// <summary>The DH tokens: <c>ee</c>, <c>es</c> (initiator's e with responder's s) and <c>se</c> (initiator's s
    /// with responder's e), each followed by MixKey.</summary>
    private void MixDiffieHellman(Token token)
    {
        var ephemeral = _localEphemeral ?? throw new InvalidOperationException("no local ephemeral key");
        var (local, remote) = token switch
        {
            Token.EE => (ephemeral, _remoteEphemeral),
            Token.ES => IsInitiator ? (ephemeral, _remoteStatic) : (_localStatic, _remoteEphemeral),
            _ => IsInitiator ? (_localStatic, _remoteEphemeral) : (ephemeral, _remoteStatic),
        };
        Span<byte> sharedSecret = stackalloc byte[NoiseConstants.DhLength];
        try
        {
            local.Agree(remote, sharedSecret);
            _symmetric.MixKey(sharedSecret);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sharedSecret);
        }
    }

    private void EnsureTurn(bool write)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failed)
        {
            throw new InvalidOperationException("the Noise handshake failed earlier");
        }

        if (IsCompleted || IsMyTurnToWrite != write)
        {
            throw new InvalidOperationException(IsCompleted
                ? "the Noise handshake is already complete"
                : $"handshake message {_messageIndex + 1} is the {(write ? "remote's to send" : "local side's to send")}");
        }
    }
}
