using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace ToolNet.Protocol.Crypto;

/// <summary>An Ed25519 public key: Data is the 32-byte RFC 8032 encoding; signatures are pure Ed25519.</summary>
public sealed class Ed25519PublicKey : PublicKey
{
    /// <summary>The length of the key and of its Data.</summary>
    public const int KeyLength = 32;

    /// <summary>The length of a signature.</summary>
    public const int SignatureLength = 64;

    private readonly Ed25519PublicKeyParameters _parameters;

    private Ed25519PublicKey(byte[] data, Ed25519PublicKeyParameters parameters)
        : base(data)
    {
        _parameters = parameters;
    }

    public override KeyType KeyType => KeyType.Ed25519;

    /// <summary>Decodes the 32-byte key.</summary>
    /// <exception cref="WireFormatException">Not 32 bytes, or not the encoding of a curve point.</exception>
    public static Ed25519PublicKey FromData(ReadOnlySpan<byte> data)
    {
        if (data.Length != KeyLength)
        {
            throw new WireFormatException($"Ed25519 public key must be {KeyLength} bytes, not {data.Length}");
        }

        Ed25519PublicKeyParameters parameters;
        try
        {
            parameters = new Ed25519PublicKeyParameters(data);
        }
        catch (ArgumentException e)
        {
            throw new WireFormatException("Ed25519 public key is not a valid curve point", e);
        }

        return new Ed25519PublicKey(data.ToArray(), parameters);
    }

    internal static Ed25519PublicKey FromParameters(Ed25519PublicKeyParameters parameters) =>
        new(parameters.GetEncoded(), parameters);

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        signature.Length == SignatureLength && _parameters.Verify(Ed25519.Algorithm.Ed25519, null, data, signature);
}
