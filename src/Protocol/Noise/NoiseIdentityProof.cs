using ToolNet.Protocol.Crypto;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The binding of a libp2p identity key to a Noise static key (libp2p/specs noise/README.md, "Static Key
/// Authentication" and "The libp2p Handshake Payload"): <c>identity_sig</c> is the identity key's signature over
/// the UTF-8 string <c>noise-libp2p-static-key:</c> followed by the 32-byte X25519 static public key. Pure: no I/O.
/// </summary>
internal static class NoiseIdentityProof
{
    private static ReadOnlySpan<byte> SignaturePrefix => "noise-libp2p-static-key:"u8;

    /// <summary>The length of the signed data: the prefix and the static key.</summary>
    private static int SignedDataLength => SignaturePrefix.Length + NoiseConstants.DhLength;

    /// <summary>Signs <paramref name="staticPublicKey"/> with <paramref name="identity"/>.</summary>
    public static byte[] Sign(PrivateKey identity, ReadOnlySpan<byte> staticPublicKey)
    {
        Span<byte> signedData = stackalloc byte[SignedDataLength];
        WriteSignedData(staticPublicKey, signedData);
        return identity.Sign(signedData);
    }

    /// <summary>
    /// Decodes the remote's identity key from <paramref name="payload"/> and checks its <c>identity_sig</c> over the
    /// static key the remote used in the handshake. Returns the proven identity key.
    /// </summary>
    /// <exception cref="WireFormatException">No <c>identity_key</c>, or one that is too long or not a valid key.</exception>
    /// <exception cref="NoiseHandshakeException">The signature does not verify.</exception>
    public static PublicKey Verify(NoiseHandshakePayload payload, ReadOnlySpan<byte> remoteStaticPublicKey)
    {
        var identityKey = payload.IdentityKey.Span;
        if (identityKey.IsEmpty)
        {
            throw new WireFormatException("the Noise handshake payload has no identity_key");
        }

        if (identityKey.Length > PublicKey.MaxProtobufLength)
        {
            throw new WireFormatException($"the Noise handshake payload's identity_key has {identityKey.Length} bytes; at most {PublicKey.MaxProtobufLength} are accepted");
        }

        var publicKey = PublicKey.FromProtobuf(identityKey);
        Span<byte> signedData = stackalloc byte[SignedDataLength];
        WriteSignedData(remoteStaticPublicKey, signedData);
        if (!publicKey.Verify(signedData, payload.IdentitySignature.Span))
        {
            throw new NoiseHandshakeException(payload.IdentitySignature.IsEmpty
                ? $"the Noise handshake payload of {publicKey.KeyType} identity {Peers.PeerId.FromPublicKey(publicKey)} has no identity_sig"
                : $"the identity_sig of {publicKey.KeyType} identity {Peers.PeerId.FromPublicKey(publicKey)} does not verify over the remote's Noise static key");
        }

        return publicKey;
    }

    private static void WriteSignedData(ReadOnlySpan<byte> staticPublicKey, Span<byte> destination)
    {
        if (staticPublicKey.Length != NoiseConstants.DhLength)
        {
            throw new ArgumentException($"a Noise static public key is {NoiseConstants.DhLength} bytes", nameof(staticPublicKey));
        }

        SignaturePrefix.CopyTo(destination);
        staticPublicKey.CopyTo(destination[SignaturePrefix.Length..]);
    }
}
