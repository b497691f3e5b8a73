namespace ToolNet.Protocol.Crypto;

/// <summary>
/// The libp2p key types, with the numbers of the <c>KeyType</c> enum in the key protobuf
/// (libp2p/specs <c>peer-ids/peer-ids.md</c>, "Keys"). The member names are the spec's.
/// </summary>
public enum KeyType
{
    /// <summary>RSA: public Data is a DER PKIX SubjectPublicKeyInfo, private Data a DER PKCS#1 RSAPrivateKey;
    /// signatures are RSASSA-PKCS1-v1_5 over SHA-256.</summary>
    RSA = 0,

    /// <summary>Ed25519: public Data is the 32-byte key, private Data the 32-byte seed followed by the public key;
    /// signatures are pure Ed25519 (RFC 8032).</summary>
    Ed25519 = 1,

    /// <summary>secp256k1: public Data is the 33-byte compressed point, private Data the 32-byte scalar;
    /// signatures are DER ECDSA over SHA-256.</summary>
    Secp256k1 = 2,

    /// <summary>ECDSA on a NIST curve: public Data is a DER PKIX SubjectPublicKeyInfo, private Data a DER SEC1
    /// ECPrivateKey; signatures are DER ECDSA over SHA-256.</summary>
    ECDSA = 3,
}
