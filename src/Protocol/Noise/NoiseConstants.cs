namespace ToolNet.Protocol.Noise;

/// <summary>The fixed parameters of libp2p Noise: one protocol, <c>Noise_XX_25519_ChaChaPoly_SHA256</c>
/// (libp2p/specs noise/README.md, "Noise Protocol Name"), and the limits of the Noise message format.</summary>
public static class NoiseConstants
{
    /// <summary>The multistream-select protocol id of noise-libp2p.</summary>
    public const string ProtocolId = "/noise";

    /// <summary>The Noise protocol name hashed into the handshake.</summary>
    public const string ProtocolName = "Noise_XX_25519_ChaChaPoly_SHA256";

    /// <summary>DHLEN for 25519: the length of an X25519 public key, private key and shared secret.</summary>
    public const int DhLength = 32;

    /// <summary>HASHLEN for SHA256.</summary>
    public const int HashLength = 32;

    /// <summary>The length of a ChaChaPoly key.</summary>
    public const int KeyLength = 32;

    /// <summary>The length of the Poly1305 authentication tag appended to every ciphertext.</summary>
    public const int TagLength = 16;

    /// <summary>The maximum length of any Noise message, handshake or transport (Noise spec §3).</summary>
    public const int MaxMessageLength = 65535;

    /// <summary>The maximum plaintext carried by one transport message: 65535 minus the 16-byte tag.</summary>
    public const int MaxPlaintextLength = MaxMessageLength - TagLength;

    /// <summary>The plaintext ToolNet puts in a full transport message: 65518 bytes, so that the whole frame (2-byte
    /// length prefix, ciphertext, 16-byte tag) is exactly 64 KiB on the wire and fills one pooled 64 KiB buffer. One
    /// byte short of <see cref="MaxPlaintextLength"/>; any length up to that is valid on the wire.</summary>
    public const int FramePlaintextLength = (64 * 1024) - 2 - TagLength;
}
