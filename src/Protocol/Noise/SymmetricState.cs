using System.Security.Cryptography;
using System.Text;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The Noise SymmetricState (Noise spec §5.2) for SHA256 and ChaChaPoly: the chaining key <c>ck</c>, the handshake
/// hash <c>h</c>, and the handshake's <see cref="CipherState"/>. Internal to <see cref="HandshakeState"/>.
/// </summary>
internal sealed class SymmetricState : IDisposable
{
    private readonly byte[] _chainingKey = new byte[NoiseConstants.HashLength];
    private readonly byte[] _hash = new byte[NoiseConstants.HashLength];
    private readonly CipherState _cipher = new();
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>InitializeSymmetric(protocol_name): <c>h</c> is the name zero-padded to HASHLEN, or its hash when
    /// longer; <c>ck</c> = <c>h</c>; the cipher state starts empty.</summary>
    public SymmetricState(string protocolName)
    {
        var nameLength = Encoding.ASCII.GetByteCount(protocolName);
        if (nameLength <= NoiseConstants.HashLength)
        {
            Encoding.ASCII.GetBytes(protocolName, _hash);
        }
        else
        {
            SHA256.HashData(Encoding.ASCII.GetBytes(protocolName), _hash);
        }

        _hash.CopyTo(_chainingKey, 0);
    }

    /// <summary>The handshake hash <c>h</c> (GetHandshakeHash()).</summary>
    public ReadOnlySpan<byte> HandshakeHash => _hash;

    /// <summary>Whether the handshake cipher state has a key yet.</summary>
    public bool HasKey => _cipher.HasKey;

    /// <summary>MixKey(ikm): <c>ck, temp_k = HKDF(ck, ikm, 2)</c>; InitializeKey(temp_k).</summary>
    public void MixKey(ReadOnlySpan<byte> inputKeyMaterial)
    {
        Span<byte> tempKey = stackalloc byte[NoiseConstants.HashLength];
        Hkdf(_chainingKey, inputKeyMaterial, _chainingKey, tempKey);
        _cipher.InitializeKey(tempKey);
        CryptographicOperations.ZeroMemory(tempKey);
    }

    /// <summary>MixHash(data): <c>h = HASH(h || data)</c>.</summary>
    public void MixHash(ReadOnlySpan<byte> data)
    {
        _sha256.AppendData(_hash);
        _sha256.AppendData(data);
        _sha256.GetHashAndReset(_hash);
    }

    /// <summary>EncryptAndHash(plaintext): encrypts with <c>h</c> as associated data (a plain copy before the first
    /// key), then mixes the ciphertext into <c>h</c>. Returns the bytes written to <paramref name="ciphertext"/>.</summary>
    public int EncryptAndHash(ReadOnlySpan<byte> plaintext, Span<byte> ciphertext)
    {
        var length = _cipher.EncryptWithAd(_hash, plaintext, ciphertext);
        MixHash(ciphertext[..length]);
        return length;
    }

    /// <summary>DecryptAndHash(ciphertext): decrypts with <c>h</c> as associated data, then mixes the ciphertext into
    /// <c>h</c>. The new <c>h</c> is computed first so that <paramref name="plaintext"/> may overlap the ciphertext.</summary>
    public int DecryptAndHash(ReadOnlySpan<byte> ciphertext, Span<byte> plaintext)
    {
        Span<byte> nextHash = stackalloc byte[NoiseConstants.HashLength];
        _sha256.AppendData(_hash);
        _sha256.AppendData(ciphertext);
        _sha256.GetHashAndReset(nextHash);
        var length = _cipher.DecryptWithAd(_hash, ciphertext, plaintext);
        nextHash.CopyTo(_hash);
        return length;
    }

    /// <summary>Split(): <c>temp_k1, temp_k2 = HKDF(ck, zerolen, 2)</c>; the first cipher state is for
    /// initiator-to-responder messages, the second for responder-to-initiator.</summary>
    public (CipherState InitiatorToResponder, CipherState ResponderToInitiator) Split()
    {
        Span<byte> key1 = stackalloc byte[NoiseConstants.HashLength];
        Span<byte> key2 = stackalloc byte[NoiseConstants.HashLength];
        try
        {
            Hkdf(_chainingKey, default, key1, key2);
            return (new CipherState(key1), new CipherState(key2));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key1);
            CryptographicOperations.ZeroMemory(key2);
        }
    }

    /// <summary>
    /// HKDF(chaining_key, input_key_material, 2) exactly as Noise spec §4.3 defines it with HMAC-SHA256:
    /// <c>temp_key = HMAC(ck, ikm); output1 = HMAC(temp_key, 0x01); output2 = HMAC(temp_key, output1 || 0x02)</c>.
    /// <paramref name="output1"/> may be the chaining key buffer itself.
    /// </summary>
    private static void Hkdf(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> inputKeyMaterial, Span<byte> output1, Span<byte> output2)
    {
        Span<byte> tempKey = stackalloc byte[NoiseConstants.HashLength];
        Span<byte> block = stackalloc byte[NoiseConstants.HashLength + 1];
        HMACSHA256.HashData(chainingKey, inputKeyMaterial, tempKey);

        ReadOnlySpan<byte> one = [0x01];
        HMACSHA256.HashData(tempKey, one, block[..NoiseConstants.HashLength]);
        block[NoiseConstants.HashLength] = 0x02;
        HMACSHA256.HashData(tempKey, block, output2);
        block[..NoiseConstants.HashLength].CopyTo(output1);

        CryptographicOperations.ZeroMemory(tempKey);
        CryptographicOperations.ZeroMemory(block);
    }

    /// <summary>Zeroes <c>ck</c> and <c>h</c> and destroys the handshake key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_chainingKey);
        CryptographicOperations.ZeroMemory(_hash);
        _cipher.Dispose();
        _sha256.Dispose();
    }
}
