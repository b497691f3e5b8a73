using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// <c>/p2p</c>: a peer id, with exactly the rules of <see cref="PeerId"/>. Binary: the peer id's multihash. Text
/// (libp2p/specs <c>peer-ids/peer-ids.md</c>, "Decoding"): a bare base58btc multihash (<c>12D3KooW…</c>,
/// <c>Qm…</c>) or a multibase CIDv1 with codec libp2p-key (<c>bafz…</c>). Output is always base58btc.
/// </summary>
internal sealed class PeerIdCodec : MultiaddrValueCodec
{
    public static PeerIdCodec Instance { get; } = new();

    public override void Validate(ReadOnlySpan<byte> value) => PeerId.FromBytes(value);

    public override byte[] Parse(ReadOnlySpan<char> text)
    {
        MultiaddrText.RequirePrintableAscii(text);
        return PeerId.Parse(text.ToString()).ToBytes();
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
