using System.Security.Cryptography;
using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Crypto;

public class KeyPropertyTests
{
    // Every valid key encoding we have: the spec's private and public keys of all four types, and go-libp2p's files.
    private static readonly byte[][] ValidEncodings =
    [
        .. VectorFile.Json("peer-ids", "spec-key-and-peerid-vectors.json").GetProperty("vectors").EnumerateArray()
            .SelectMany(v => new[] { v.GetProperty("private_key_protobuf_hex").Hex(), v.GetProperty("public_key_protobuf_hex").Hex() }),
        .. new[] { "0", "2", "3" }.SelectMany(n => new[] { VectorFile.Bytes("go-libp2p-crypto-fixtures", $"{n}.priv"), VectorFile.Bytes("go-libp2p-crypto-fixtures", $"{n}.pub") }),
    ];

    [Property]
    public void Ed25519_keys_round_trip_through_their_protobufs(byte[] material)
    {
        var key = Ed25519PrivateKey.FromSeed(SHA256.HashData(material));
        AssertRoundTrips(key);
    }

    [Property]
    public void Secp256k1_keys_round_trip_through_their_protobufs(byte[] material)
    {
        var key = Secp256k1PrivateKey.FromData(SHA256.HashData(material));
        AssertRoundTrips(key);
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        AssertDecodesOrRejects(bytes);
    }

    [Property]
    public void Arbitrary_data_of_each_key_type_decodes_or_throws_the_format_exception(byte type, byte[] data)
    {
        AssertDecodesOrRejects(KeyProtobuf.Encode((KeyType)(type % 4), data));
    }

    [Property]
    public void Corrupted_valid_keys_decode_or_throw_the_format_exception(int which, int position, byte value, bool truncate)
    {
        var encoding = (byte[])ValidEncodings[(int)((uint)which % ValidEncodings.Length)].Clone();
        var index = (int)((uint)position % encoding.Length);
        if (truncate)
        {
            encoding = encoding[..index];
        }
        else
        {
            encoding[index] = value;
        }

        AssertDecodesOrRejects(encoding);
    }

    private static void AssertRoundTrips(PrivateKey key)
    {
        var publicKey = key.GetPublicKey();
        Assert.Equal(key, PrivateKey.FromProtobuf(key.ToProtobuf()));
        Assert.Equal(key.ToProtobuf(), PrivateKey.FromProtobuf(key.ToProtobuf()).ToProtobuf());
        Assert.Equal(publicKey.ToProtobuf(), PublicKey.FromProtobuf(publicKey.ToProtobuf()).ToProtobuf());
        Assert.True(PeerId.FromPublicKey(publicKey).TryExtractPublicKey(out var extracted));
        Assert.Equal(publicKey, extracted);
    }

    // Decoding succeeds, and a decoded public key re-encodes to exactly its input, or it throws WireFormatException;
    // anything else (a crypto library exception leaking through) fails the test.
    private static void AssertDecodesOrRejects(byte[] bytes)
    {
        try
        {
            Assert.Equal(bytes, PublicKey.FromProtobuf(bytes).ToProtobuf());
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var key = PrivateKey.FromProtobuf(bytes);
            Assert.Equal(key, PrivateKey.FromProtobuf(key.ToProtobuf()));
        }
        catch (WireFormatException)
        {
        }
    }
}
