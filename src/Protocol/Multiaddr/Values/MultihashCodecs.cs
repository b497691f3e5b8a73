using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// <c>/p2p</c>: a peer id. Binary: the peer id's multihash. Text (libp2p/specs <c>peer-ids/peer-ids.md</c>,
/// "Decoding"): a string starting with <c>1</c> or <c>Qm</c> is a bare base58btc multihash; anything else is a
/// multibase CIDv1 whose codec must be libp2p-key (0x72). Output is always base58btc.
/// </summary>
internal sealed class PeerIdCodec : MultiaddrValueCodec
{
    public static PeerIdCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value)
    {
        // peer-ids.md, "Peer Ids": a peer id is the identity or the sha2-256 multihash of the public key.
        var hash = Multihash.Decode(value);
        if (hash.Code == MultihashCode.Identity)
        {
            return;
        }

        if (hash.Code != MultihashCode.Sha2_256 || hash.Digest.Length != 32)
        {
            throw new WireFormatException($"peer id multihash must be identity or 32-byte sha2-256, not {hash.FunctionName} of {hash.Digest.Length} bytes");
        }
    }

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        MultiaddrText.RequirePrintableAscii(text);
        byte[] value;
        if (text.StartsWith('1') || text.StartsWith("Qm"))
        {
            value = Multibase.DecodeBase58Btc(text);
        }
        else
        {
            var cid = Cid.Parse(text.ToString());
            if (cid.Codec != MulticodecCode.Libp2pKey)
            {
                throw new WireFormatException($"a peer id CID must have codec libp2p-key (0x72), not 0x{cid.Codec:x}");
            }

            value = cid.Hash.Bytes.ToArray();
        }

        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value) => Multibase.EncodeBase58Btc(value);
}

/// <summary>
/// <c>/certhash</c>: the multihash of a certificate (WebTransport, WebRTC). Text is any multibase ToolNet reads;
/// output is base64url (<c>u…</c>), as go-multiaddr and rust-multiaddr print it.
/// </summary>
internal sealed class CertHashCodec : MultiaddrValueCodec
{
    public static CertHashCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value) => Multihash.Decode(value);

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        MultiaddrText.RequirePrintableAscii(text);
        var value = Multibase.Decode(text.ToString());
        Validate(value);
        return value;
    }

    public override string Format(ReadOnlySpan<byte> value) => Multibase.Encode(MultibaseEncoding.Base64Url, value);
}
