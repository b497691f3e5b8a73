using System.Security.Cryptography;
using Rfc7748 = Org.BouncyCastle.Math.EC.Rfc7748;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// An X25519 key pair (the Noise "25519" DH functions, RFC 7748). Used for the Noise static key and the
/// per-handshake ephemeral key; it is not a libp2p identity key. Disposing zeroes the private key.
/// </summary>
public sealed class X25519KeyPair : IDisposable
{
    private readonly byte[] _privateKey = new byte[NoiseConstants.DhLength];
    private readonly byte[] _publicKey = new byte[NoiseConstants.DhLength];
    private bool _disposed;

    private X25519KeyPair(ReadOnlySpan<byte> privateKey)
    {
        privateKey.CopyTo(_privateKey);
        Rfc7748.X25519.GeneratePublicKey(_privateKey, _publicKey);
    }

    /// <summary>The 32-byte public key, encoded as in RFC 7748 §5.</summary>
    public ReadOnlySpan<byte> PublicKey
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _publicKey;
        }
    }

    /// <summary>Generates a key pair from the operating system's CSPRNG (clamping happens in the scalar multiplication).</summary>
    public static X25519KeyPair Generate()
    {
        Span<byte> privateKey = stackalloc byte[NoiseConstants.DhLength];
        RandomNumberGenerator.Fill(privateKey);
        try
        {
            return new X25519KeyPair(privateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    /// <summary>Builds a key pair from a 32-byte private key (for test vectors, or a caller-managed static key).</summary>
    public static X25519KeyPair FromPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != NoiseConstants.DhLength)
        {
            throw new ArgumentException($"an X25519 private key is {NoiseConstants.DhLength} bytes", nameof(privateKey));
        }

        return new X25519KeyPair(privateKey);
    }

    /// <summary>
    /// DH(key_pair, public_key) into <paramref name="sharedSecret"/>. A remote public key of small order yields
    /// the all-zero secret; that is rejected with <see cref="WireFormatException"/>, which the Noise spec permits
    /// (§4.1 lets DH() signal an error for invalid public keys) and which keeps a hostile peer from forcing a
    /// known key.
    /// </summary>
    internal void Agree(ReadOnlySpan<byte> remotePublicKey, Span<byte> sharedSecret)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Rfc7748.X25519.CalculateAgreement(_privateKey, remotePublicKey, sharedSecret))
        {
            throw new WireFormatException("the remote X25519 public key is of small order (all-zero shared secret)");
        }
    }

    /// <summary>Zeroes the private key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_privateKey);
        _disposed = true;
    }
}
