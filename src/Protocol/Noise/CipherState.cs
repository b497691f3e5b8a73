using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// A Noise CipherState (Noise spec §5.1) for ChaChaPoly: a key <c>k</c>, a 64-bit nonce <c>n</c>, and one reused
/// <see cref="ChaCha20Poly1305"/> instance. During the handshake it lives inside the symmetric state; after
/// <see cref="HandshakeState.Split"/> each side holds one per direction for transport messages. Not thread-safe:
/// a direction is driven by one loop at a time. Disposing destroys the key.
/// </summary>
public sealed class CipherState : IDisposable
{
    private const int NonceLength = 12;

    // The key lives only inside the AEAD instance (native context on OpenSSL), freed and cleared on dispose.
    private ChaCha20Poly1305? _aead;
    private ulong _nonce;
    private bool _disposed;

    /// <summary>An empty cipher state (no key yet): encryption is the identity, as the spec requires.</summary>
    internal CipherState()
    {
    }

    /// <summary>A cipher state keyed with <paramref name="key"/> and nonce 0.</summary>
    internal CipherState(ReadOnlySpan<byte> key)
    {
        InitializeKey(key);
    }

    /// <summary>Whether a key has been set (HasKey()).</summary>
    public bool HasKey => _aead is not null;

    /// <summary>The nonce the next encryption or decryption will use.</summary>
    public ulong Nonce => _nonce;

    /// <summary>InitializeKey(key): sets <c>k</c> and resets <c>n</c> to 0.</summary>
    internal void InitializeKey(ReadOnlySpan<byte> key)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (key.Length != NoiseConstants.KeyLength)
        {
            throw new ArgumentException($"a ChaChaPoly key is {NoiseConstants.KeyLength} bytes", nameof(key));
        }

        _aead?.Dispose();
        _aead = new ChaCha20Poly1305(key);
        _nonce = 0;
    }

    /// <summary>SetNonce(n); only tests use it, to reach the nonce limit.</summary>
    internal void SetNonce(ulong nonce) => _nonce = nonce;

    /// <summary>
    /// Encrypts one transport message (empty associated data) from <paramref name="plaintext"/> into
    /// <paramref name="ciphertext"/>, which receives the plaintext length plus the 16-byte tag. The two spans may be
    /// the same memory (in-place) but must not otherwise overlap. Returns the ciphertext length.
    /// </summary>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        if (plaintext.Length > NoiseConstants.MaxPlaintextLength)
        {
            throw new ArgumentOutOfRangeException(nameof(plaintext), plaintext.Length, $"a Noise transport message carries at most {NoiseConstants.MaxPlaintextLength} bytes");
        }

        return EncryptWithAd(default, plaintext, ciphertext);
    }

    /// <summary>
    /// Encrypts the first <paramref name="plaintextLength"/> bytes of <paramref name="buffer"/> in place and writes
    /// the tag right after them. Returns the ciphertext length (<paramref name="plaintextLength"/> + 16).
    /// </summary>
    public int EncryptInPlace(Span<byte> buffer, int plaintextLength) => Encrypt(buffer[..plaintextLength], buffer);

    /// <summary>
    /// Decrypts and authenticates one transport message from <paramref name="ciphertext"/> into
    /// <paramref name="plaintext"/> (at least the ciphertext length minus 16; the two may be the same memory).
    /// Returns the plaintext length. Throws <see cref="NoiseAuthenticationException"/> when the tag does not verify
    /// and <see cref="WireFormatException"/> when the message is shorter than a tag or longer than 65535 bytes.
    /// </summary>
    public int Decrypt(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        if (ciphertext.Length > NoiseConstants.MaxMessageLength)
        {
            throw new WireFormatException($"a Noise message is at most {NoiseConstants.MaxMessageLength} bytes, got {ciphertext.Length}");
        }

        return DecryptWithAd(default, ciphertext, plaintext);
    }

    /// <summary>Decrypts <paramref name="buffer"/> in place; the plaintext is its first (length - 16) bytes. Returns that length.</summary>
    public int DecryptInPlace(Span<byte> buffer) => Decrypt(buffer, buffer);

    /// <summary>EncryptWithAd(ad, plaintext). Without a key the plaintext is copied unchanged (Noise spec §5.1).</summary>
    internal int EncryptWithAd(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_aead is null)
        {
            plaintext.CopyTo(ciphertext);
            return plaintext.Length;
        }

        var length = plaintext.Length + NoiseConstants.TagLength;
        if (ciphertext.Length < length)
        {
            throw new ArgumentException($"the ciphertext buffer needs {length} bytes", nameof(ciphertext));
        }

        Span<byte> nonce = stackalloc byte[NonceLength];
        FormatNonce(nonce);
        _aead.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], ciphertext.Slice(plaintext.Length, NoiseConstants.TagLength), ad);
        _nonce++;
        return length;
    }

    /// <summary>DecryptWithAd(ad, ciphertext). Without a key the ciphertext is copied unchanged. On an
    /// authentication failure the nonce is not advanced (Noise spec §5.1) and the destination is cleared.</summary>
    internal int DecryptWithAd(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_aead is null)
        {
            ciphertext.CopyTo(plaintext);
            return ciphertext.Length;
        }

        if (ciphertext.Length < NoiseConstants.TagLength)
        {
            throw new WireFormatException($"a Noise ciphertext of {ciphertext.Length} bytes is shorter than its {NoiseConstants.TagLength}-byte tag");
        }

        var length = ciphertext.Length - NoiseConstants.TagLength;
        if (plaintext.Length < length)
        {
            throw new ArgumentException($"the plaintext buffer needs {length} bytes", nameof(plaintext));
        }

        Span<byte> nonce = stackalloc byte[NonceLength];
        FormatNonce(nonce);
        try
        {
            _aead.Decrypt(nonce, ciphertext[..length], ciphertext[length..], plaintext[..length], ad);
        }
        catch (CryptographicException ex)
        {
            throw new NoiseAuthenticationException($"Noise message with nonce {_nonce} failed ChaCha20-Poly1305 authentication", ex);
        }

        _nonce++;
        return length;
    }

    /// <summary>ChaChaPoly nonce (Noise spec §12.3): 32 zero bits, then the 64-bit counter little-endian.
    /// The value 2^64-1 is reserved (§5.1), so reaching it ends the cipher state.</summary>
    private void FormatNonce(Span<byte> nonce)
    {
        if (_nonce == ulong.MaxValue)
        {
            throw new InvalidOperationException("Noise nonce exhausted after 2^64-1 messages; the connection must be closed");
        }

        nonce[..4].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(nonce[4..], _nonce);
    }

    /// <summary>Releases the AEAD instance, which clears its copy of the key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _aead?.Dispose();
        _aead = null;
    }
}
