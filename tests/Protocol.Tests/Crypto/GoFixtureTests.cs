using System.Text;
using System.Text.Json;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Crypto;

/// <summary>go-libp2p's core/crypto/test_data key files and signatures (Vectors/go-libp2p-crypto-fixtures).</summary>
public class GoFixtureTests
{
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("Libp2p is the _best_!");
    private static readonly JsonElement Fixtures = VectorFile.Json("go-libp2p-crypto-fixtures", "fixtures.json");

    public static TheoryData<int> KeyTypes() => [0, 2, 3];

    private static byte[] File(int keyType, string extension) => VectorFile.Bytes("go-libp2p-crypto-fixtures", $"{keyType}.{extension}");

    private static JsonElement Fixture(int keyType) =>
        Fixtures.GetProperty("fixtures").EnumerateArray().Single(f => f.GetProperty("file_prefix").GetString() == keyType.ToString());

    [Fact]
    public void The_signed_message_is_the_one_go_libp2p_signs()
    {
        Assert.Equal(Fixtures.GetProperty("signed_message_hex").Hex(), Message);
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Binary_files_match_the_transcribed_hex(int keyType)
    {
        var fixture = Fixture(keyType);
        Assert.Equal(fixture.GetProperty("priv_protobuf_hex").Hex(), File(keyType, "priv"));
        Assert.Equal(fixture.GetProperty("pub_protobuf_hex").Hex(), File(keyType, "pub"));
        Assert.Equal(fixture.GetProperty("sig_hex").Hex(), File(keyType, "sig"));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Private_key_loads_and_its_public_key_equals_the_pub_file(int keyType)
    {
        var privateKey = PrivateKey.FromProtobuf(File(keyType, "priv"));
        var publicKey = PublicKey.FromProtobuf(File(keyType, "pub"));

        Assert.Equal((KeyType)keyType, privateKey.KeyType);
        Assert.Equal(File(keyType, "priv"), privateKey.ToProtobuf());
        Assert.Equal(File(keyType, "pub"), privateKey.GetPublicKey().ToProtobuf());
        Assert.Equal(publicKey, privateKey.GetPublicKey());
        Assert.Equal(Fixture(keyType).GetProperty("derived_peer_id_base58btc").GetString(), PeerId.FromPublicKey(publicKey).ToString());
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Go_signature_verifies(int keyType)
    {
        Assert.True(PublicKey.FromProtobuf(File(keyType, "pub")).Verify(Message, File(keyType, "sig")));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Every_single_bit_change_to_the_message_fails(int keyType)
    {
        var publicKey = PublicKey.FromProtobuf(File(keyType, "pub"));
        var signature = File(keyType, "sig");
        for (var i = 0; i < Message.Length * 8; i++)
        {
            var message = (byte[])Message.Clone();
            message[i / 8] ^= (byte)(1 << (i % 8));
            Assert.False(publicKey.Verify(message, signature), $"bit {i}");
        }

        Assert.False(publicKey.Verify(Message.AsSpan(1), signature));
        Assert.False(publicKey.Verify([.. Message, 0], signature));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Every_byte_change_to_the_signature_fails(int keyType)
    {
        var publicKey = PublicKey.FromProtobuf(File(keyType, "pub"));
        var original = File(keyType, "sig");
        for (var i = 0; i < original.Length; i++)
        {
            var signature = (byte[])original.Clone();
            signature[i] ^= 0x01;
            Assert.False(publicKey.Verify(Message, signature), $"byte {i}");
        }

        Assert.False(publicKey.Verify(Message, original.AsSpan(0, original.Length - 1)));
        Assert.False(publicKey.Verify(Message, [.. original, 0]));
        Assert.False(publicKey.Verify(Message, []));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Deterministic_schemes_reproduce_the_go_signature_exactly(int keyType)
    {
        // go-libp2p's fixture test also checks that RSA (PKCS#1 v1.5) and secp256k1 (RFC 6979, low s) signing is
        // deterministic; producing the same bytes shows the nonce derivation and s normalisation match.
        var privateKey = PrivateKey.FromProtobuf(File(keyType, "priv"));
        Assert.Equal(Convert.ToHexStringLower(File(keyType, "sig")), Convert.ToHexStringLower(privateKey.Sign(Message)));
    }

    [Fact]
    public void Ecdsa_signing_is_randomised_but_verifies()
    {
        var privateKey = PrivateKey.FromProtobuf(File(3, "priv"));
        var publicKey = PublicKey.FromProtobuf(File(3, "pub"));
        var first = privateKey.Sign(Message);
        var second = privateKey.Sign(Message);
        Assert.True(publicKey.Verify(Message, first));
        Assert.True(publicKey.Verify(Message, second));
    }

    [Fact]
    public void A_signature_verifies_only_under_its_own_key()
    {
        int[] keyTypes = [0, 2, 3];
        foreach (var signer in keyTypes)
        {
            foreach (var verifier in keyTypes.Where(k => k != signer))
            {
                Assert.False(PublicKey.FromProtobuf(File(verifier, "pub")).Verify(Message, File(signer, "sig")));
            }
        }
    }
}
