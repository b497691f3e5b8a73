using System.Text.Json;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Crypto;

/// <summary>The key pairs of libp2p/specs peer-ids.md "Test vectors" (Vectors/peer-ids, see PROVENANCE.md).</summary>
public class SpecKeyVectorTests
{
    private static readonly JsonElement Vectors = VectorFile.Json("peer-ids", "spec-key-and-peerid-vectors.json");

    public static TheoryData<string> KeyTypes() => ["Ed25519", "Secp256k1", "ECDSA", "RSA"];

    private static JsonElement Vector(string keyType) =>
        Vectors.GetProperty("vectors").EnumerateArray().Single(v => v.GetProperty("key_type").GetString() == keyType);

    [Fact]
    public void The_vector_file_covers_every_key_type()
    {
        var types = Vectors.GetProperty("vectors").EnumerateArray().Select(v => v.GetProperty("key_type_enum").GetInt32()).Order();
        Assert.Equal([0, 1, 2, 3], types);
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Private_key_protobuf_decodes_and_re_encodes_byte_for_byte(string keyType)
    {
        var vector = Vector(keyType);
        var encoded = vector.GetProperty("private_key_protobuf_hex").Hex();

        var key = PrivateKey.FromProtobuf(encoded);

        Assert.Equal(Enum.Parse<KeyType>(keyType), key.KeyType);
        Assert.Equal(vector.GetProperty("key_type_enum").GetInt32(), (int)key.KeyType);
        Assert.Equal(encoded, key.ToProtobuf());
        Assert.Equal(key, PrivateKey.FromProtobuf(key.ToProtobuf()));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Private_key_yields_the_vector_public_key_byte_for_byte(string keyType)
    {
        var vector = Vector(keyType);
        var expected = vector.GetProperty("public_key_protobuf_hex").Hex();

        var publicKey = PrivateKey.FromProtobuf(vector.GetProperty("private_key_protobuf_hex").Hex()).GetPublicKey();

        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(publicKey.ToProtobuf()));
        Assert.Equal(vector.GetProperty("derived_public_key_protobuf_len").GetInt32(), publicKey.ProtobufLength);
        var decoded = PublicKey.FromProtobuf(expected);
        Assert.Equal(publicKey, decoded);
        Assert.Equal(publicKey.GetHashCode(), decoded.GetHashCode());
        Assert.Equal(expected, decoded.ToProtobuf());
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Public_key_gives_the_vector_peer_id_in_both_text_forms(string keyType)
    {
        var vector = Vector(keyType);
        var publicKey = PublicKey.FromProtobuf(vector.GetProperty("public_key_protobuf_hex").Hex());

        var peerId = PeerId.FromPublicKey(publicKey);

        Assert.Equal(vector.GetProperty("derived_peer_id_multihash_hex").GetString(), Convert.ToHexStringLower(peerId.ToBytes()));
        Assert.Equal(vector.GetProperty("derived_peer_id_base58btc").GetString(), peerId.ToString());
        Assert.Equal(vector.GetProperty("derived_peer_id_cidv1_base32").GetString(), peerId.ToCidString());
        Assert.Equal(peerId, PeerId.Parse(vector.GetProperty("derived_peer_id_base58btc").GetString()!));
        Assert.Equal(peerId, PeerId.Parse(vector.GetProperty("derived_peer_id_cidv1_base32").GetString()!));
        Assert.True(peerId.Matches(publicKey));

        var inline = vector.GetProperty("derived_peer_id_multihash_fn").GetString()!.StartsWith("identity", StringComparison.Ordinal);
        Assert.Equal(inline, peerId.HasInlinePublicKey);
        Assert.Equal(inline, peerId.TryExtractPublicKey(out var extracted));
        Assert.Equal(inline ? publicKey : null, extracted);
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Vector_keys_sign_and_verify(string keyType)
    {
        var key = PrivateKey.FromProtobuf(Vector(keyType).GetProperty("private_key_protobuf_hex").Hex());
        var publicKey = PublicKey.FromProtobuf(Vector(keyType).GetProperty("public_key_protobuf_hex").Hex());
        var message = "peer-ids.md test vector"u8.ToArray();

        var signature = key.Sign(message);

        Assert.True(publicKey.Verify(message, signature));
        Assert.False(publicKey.Verify("another message"u8, signature));
    }
}
