using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// A reservation voucher (circuit-v2 spec, "Reservation Vouchers"): the relay's signed statement that it serves
/// <see cref="Peer"/> until <see cref="Expiration"/>. Carried as a signed envelope under the domain
/// <c>libp2p-relay-rsvp</c> with payload type <c>03 02</c> (the multicodec <c>libp2p-relay-rsvp</c>); the payload is
/// the canonical protobuf <c>Voucher { relay = 1; peer = 2; expiration = 3 }</c>, fields in number order.
/// </summary>
public sealed record RelayVoucher(PeerId Relay, PeerId Peer, ulong Expiration)
{
    /// <summary>The signing domain of voucher envelopes.</summary>
    public const string EnvelopeDomain = "libp2p-relay-rsvp";

    private const int RelayField = 1;
    private const int PeerField = 2;
    private const int ExpirationField = 3;
    private const int MaxEncodedLength = 256;

    /// <summary>The envelope payload type: the multicodec <c>libp2p-relay-rsvp</c> (0x0302), big-endian.</summary>
    public static ReadOnlySpan<byte> EnvelopePayloadType => [0x03, 0x02];

    /// <summary>Decodes the voucher payload.</summary>
    /// <exception cref="WireFormatException">Malformed, oversized, or a field missing.</exception>
    public static RelayVoucher FromProtobuf(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length > MaxEncodedLength)
        {
            throw new WireFormatException($"voucher of {encoded.Length} bytes exceeds {MaxEncodedLength}");
        }

        PeerId? relay = null;
        PeerId? peer = null;
        ulong? expiration = null;
        var reader = new ProtobufReader(encoded);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case RelayField:
                    relay = PeerId.FromBytes(reader.ReadBytes(wireType));
                    break;
                case PeerField:
                    peer = PeerId.FromBytes(reader.ReadBytes(wireType));
                    break;
                case ExpirationField:
                    expiration = reader.ReadVarintField(wireType);
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return relay is null || peer is null || expiration is null
            ? throw new WireFormatException("a voucher needs relay, peer and expiration")
            : new RelayVoucher(relay, peer, expiration.Value);
    }

    /// <summary>
    /// Decodes a voucher envelope and checks it: payload type, signature under <see cref="EnvelopeDomain"/>, and that
    /// the signer is the relay the voucher names.
    /// </summary>
    /// <exception cref="WireFormatException">The envelope or the voucher is malformed.</exception>
    /// <exception cref="RecordVerificationException">Another payload type, a bad signature, or signed by another key.</exception>
    public static RelayVoucher Open(ReadOnlySpan<byte> envelopeBytes)
    {
        var envelope = Envelope.Decode(envelopeBytes);
        if (!envelope.PayloadType.SequenceEqual(EnvelopePayloadType))
        {
            throw new RecordVerificationException($"envelope payload type {Convert.ToHexStringLower(envelope.PayloadType)} is not a relay voucher (0302)");
        }

        if (!envelope.Verify(EnvelopeDomain))
        {
            throw new RecordVerificationException($"voucher signature does not verify under domain '{EnvelopeDomain}'");
        }

        var voucher = FromProtobuf(envelope.Payload);
        return voucher.Relay.Matches(envelope.PublicKey)
            ? voucher
            : throw new RecordVerificationException($"voucher of relay {voucher.Relay} is signed by {PeerId.FromPublicKey(envelope.PublicKey)}");
    }

    /// <summary>The canonical payload encoding.</summary>
    public byte[] ToProtobuf()
    {
        var relay = Relay.Bytes;
        var peer = Peer.Bytes;
        var bytes = new byte[ProtobufWriter.BytesFieldLength(RelayField, relay.Length, omitEmpty: false)
            + ProtobufWriter.BytesFieldLength(PeerField, peer.Length, omitEmpty: false)
            + ProtobufWriter.VarintFieldLength(ExpirationField, Expiration, omitZero: false)];
        var writer = new ProtobufWriter(bytes);
        writer.WriteBytesField(RelayField, relay, omitEmpty: false);
        writer.WriteBytesField(PeerField, peer, omitEmpty: false);
        writer.WriteVarintField(ExpirationField, Expiration, omitZero: false);
        return bytes;
    }

    /// <summary>Signs the voucher with the relay's key.</summary>
    /// <exception cref="ArgumentException"><paramref name="relayKey"/> is not the key of <see cref="Relay"/>.</exception>
    public Envelope Seal(PrivateKey relayKey)
    {
        ArgumentNullException.ThrowIfNull(relayKey);
        if (!Relay.Matches(relayKey.GetPublicKey()))
        {
            throw new ArgumentException($"a voucher of relay {Relay} must be signed by that relay's key", nameof(relayKey));
        }

        return Envelope.Seal(relayKey, EnvelopeDomain, EnvelopePayloadType, ToProtobuf());
    }
}
