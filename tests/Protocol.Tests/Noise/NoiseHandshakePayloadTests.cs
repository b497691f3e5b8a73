using FsCheck.Xunit;
using Google.Protobuf;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

public class NoiseHandshakePayloadTests
{
    [Fact]
    public void Libp2p_derived_payloads_decode_and_re_encode_byte_for_byte()
    {
        var vector = VectorFile.Json("noise", "libp2p-noise-xx-handshake-derived.json");
        var keys = vector.GetProperty("keys");
        var message2 = vector.GetProperty("payload_msg2_protobuf_hex").Hex();
        var payload = NoiseHandshakePayload.Decode(message2);

        Assert.Equal(keys.GetProperty("responder_identity_public_key_protobuf_hex").GetString(), Convert.ToHexStringLower(payload.IdentityKey.Span));
        Assert.Equal(64, payload.IdentitySignature.Length);
        Assert.NotNull(payload.Extensions);
        Assert.Equal(["/yamux/1.0.0"], payload.Extensions.StreamMuxers);
        Assert.Empty(payload.Extensions.WebTransportCertHashes);
        Assert.Equal(message2, payload.ToBytes());

        var message3 = vector.GetProperty("payload_msg3_protobuf_hex").Hex();
        Assert.Equal(message3, NoiseHandshakePayload.Decode(message3).ToBytes());
    }

    [Property]
    public void Encoding_matches_google_protobuf_and_decodes_back(byte[] identityKey, byte[] signature, bool withExtensions, byte[][] certHashes, string[] muxers)
    {
        var cleanMuxers = muxers.Select(m => new string((m ?? "").Where(c => !char.IsSurrogate(c)).ToArray())).ToArray();
        var payload = new NoiseHandshakePayload
        {
            IdentityKey = identityKey,
            IdentitySignature = signature,
            Extensions = withExtensions ? new NoiseExtensions { WebTransportCertHashes = [.. certHashes.Select(h => (ReadOnlyMemory<byte>)h)], StreamMuxers = cleanMuxers } : null,
        };

        var ours = payload.ToBytes();
        Assert.Equal(ours.Length, payload.GetEncodedLength());
        Assert.Equal(EncodeWithGoogleProtobuf(identityKey, signature, withExtensions, certHashes, cleanMuxers), ours);

        var decoded = NoiseHandshakePayload.Decode(ours);
        Assert.Equal(identityKey, decoded.IdentityKey.ToArray());
        Assert.Equal(signature, decoded.IdentitySignature.ToArray());
        Assert.Equal(withExtensions, decoded.Extensions is not null);
        if (decoded.Extensions is not null)
        {
            Assert.Equal(cleanMuxers, decoded.Extensions.StreamMuxers);
            Assert.Equal(certHashes, decoded.Extensions.WebTransportCertHashes.Select(h => h.ToArray()));
        }
    }

    [Property]
    public void Arbitrary_bytes_decode_or_throw_the_format_exception(byte[] bytes)
    {
        try
        {
            NoiseHandshakePayload.Decode(bytes);
        }
        catch (WireFormatException)
        {
        }
    }

    [Fact]
    public void Unknown_fields_are_skipped_and_repeated_extensions_merge()
    {
        byte[] bytes =
        [
            0x18, 0xAC, 0x02,                       // field 3 varint 300 (unknown)
            0x0A, 0x01, 0x4B,                       // identity_key = "K"
            0x2D, 1, 2, 3, 4,                       // field 5 fixed32 (unknown)
            0x22, 0x03, 0x12, 0x01, 0x61,           // extensions { stream_muxers = "a" }
            0x31, 1, 2, 3, 4, 5, 6, 7, 8,           // field 6 fixed64 (unknown)
            0x22, 0x03, 0x12, 0x01, 0x62,           // extensions { stream_muxers = "b" }
        ];
        var payload = NoiseHandshakePayload.Decode(bytes);
        Assert.Equal("K"u8.ToArray(), payload.IdentityKey.ToArray());
        Assert.Equal(["a", "b"], payload.Extensions!.StreamMuxers);
    }

    [Theory]
    [InlineData("0a05010203", "claims 5 bytes")]                 // identity_key length past the end
    [InlineData("0805", "expected a length-delimited")]          // identity_key as a varint
    [InlineData("0b", "wire type 3")]                            // group start
    [InlineData("0200", "invalid protobuf tag")]                 // field number 0
    [InlineData("0aff", "truncated protobuf varint")]
    [InlineData("0affffffffffffffffffff01", "longer than 10 bytes")]
    [InlineData("22041202fffe", "not valid UTF-8")]
    [InlineData("2d0102", "truncated protobuf field")]          // fixed32 cut short
    public void Malformed_payloads_are_format_errors(string hex, string reason)
    {
        var exception = Assert.ThrowsAny<WireFormatException>(() => NoiseHandshakePayload.Decode(Convert.FromHexString(hex)));
        Assert.Contains(reason, exception.Message);
    }

    [Fact]
    public void A_payload_larger_than_a_noise_message_is_refused()
    {
        Assert.Throws<WireFormatException>(() => NoiseHandshakePayload.Decode(new byte[NoiseConstants.MaxMessageLength + 1]));
    }

    private static byte[] EncodeWithGoogleProtobuf(byte[] identityKey, byte[] signature, bool withExtensions, byte[][] certHashes, string[] muxers)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        if (identityKey.Length > 0)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(identityKey));
        }

        if (signature.Length > 0)
        {
            output.WriteTag(2, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(signature));
        }

        if (withExtensions)
        {
            using var inner = new MemoryStream();
            var extensions = new CodedOutputStream(inner);
            foreach (var hash in certHashes)
            {
                extensions.WriteTag(1, WireFormat.WireType.LengthDelimited);
                extensions.WriteBytes(ByteString.CopyFrom(hash));
            }

            foreach (var muxer in muxers)
            {
                extensions.WriteTag(2, WireFormat.WireType.LengthDelimited);
                extensions.WriteString(muxer);
            }

            extensions.Flush();
            output.WriteTag(4, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(inner.ToArray()));
        }

        output.Flush();
        return buffer.ToArray();
    }
}
