using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Records;

/// <summary>
/// A peer record (libp2p RFC 0003, "Address Record Format"): the addresses a peer says it can be reached at, with a
/// sequence number that orders its records. It travels inside a signed <see cref="Envelope"/> so that a third party
/// can pass it on without being able to change it. Wire form (go-libp2p <c>core/peer/pb/peer_record.proto</c>):
/// <code>
/// message PeerRecord {
///   message AddressInfo { bytes multiaddr = 1; }
///   bytes peer_id = 1;
///   uint64 seq = 2;
///   repeated AddressInfo addresses = 3;
/// }
/// </code>
/// </summary>
/// <remarks>
/// RFC 0003 still names the domain <c>libp2p-routing-state</c>; the implementations that interoperate today sign
/// under <see cref="EnvelopeDomain"/> with payload type <c>03 01</c> (the multicodec <c>libp2p-peer-record</c>,
/// 0x0301, as an unsigned varint), and so does this type.
/// </remarks>
public sealed class PeerRecord : IEquatable<PeerRecord>
{
    /// <summary>The signing domain of a peer record envelope.</summary>
    public const string EnvelopeDomain = "libp2p-peer-record";

    /// <summary>The longest encoded record accepted; leaves room in an <see cref="Envelope"/> for the largest key and signature.</summary>
    public const int MaxEncodedLength = Envelope.MaxEncodedLength - (8 * 1024);

    /// <summary>The most addresses one record may carry.</summary>
    public const int MaxAddresses = 1000;

    private const int PeerIdField = 1;
    private const int SeqField = 2;
    private const int AddressesField = 3;
    private const int AddressInfoMultiaddrField = 1;

    /// <summary>Creates a record.</summary>
    /// <exception cref="ArgumentException">An empty address, more than <see cref="MaxAddresses"/> addresses, or an
    /// encoding longer than <see cref="MaxEncodedLength"/>, which peers would refuse.</exception>
    public PeerRecord(PeerId peerId, ulong seq, IEnumerable<Multiaddr> addresses)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        ArgumentNullException.ThrowIfNull(addresses);
        PeerId = peerId;
        Seq = seq;
        Addresses = [.. addresses];
        if (Addresses.Count > MaxAddresses)
        {
            throw new ArgumentException($"a peer record holds at most {MaxAddresses} addresses, not {Addresses.Count}", nameof(addresses));
        }

        if (Addresses.Any(address => address is null || address.IsEmpty))
        {
            throw new ArgumentException("a peer record address may not be null or empty", nameof(addresses));
        }

        if (GetEncodedLength() > MaxEncodedLength)
        {
            throw new ArgumentException($"the record would encode to more than {MaxEncodedLength} bytes", nameof(addresses));
        }
    }

    /// <summary>The multicodec of a peer record as an envelope payload type: <c>03 01</c>.</summary>
    public static ReadOnlySpan<byte> EnvelopePayloadType => [0x03, 0x01];

    /// <summary>The peer the record speaks for; only that peer's key may sign it.</summary>
    public PeerId PeerId { get; }

    /// <summary>Orders the records of one peer: a higher value supersedes a lower one.</summary>
    public ulong Seq { get; }

    /// <summary>The addresses, in the order given.</summary>
    public IReadOnlyList<Multiaddr> Addresses { get; }

    /// <summary>Decodes a record (the payload of its envelope). Unknown fields are skipped; an address that is not a
    /// multiaddr this build can decode (say, a protocol it does not know) is skipped too, so that one such address
    /// does not void a peer's other addresses.</summary>
    /// <exception cref="WireFormatException">Malformed protobuf, over <see cref="MaxEncodedLength"/> bytes or
    /// <see cref="MaxAddresses"/> addresses, or a missing or invalid peer id.</exception>
    public static PeerRecord FromProtobuf(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length > MaxEncodedLength)
        {
            throw new WireFormatException($"peer record of {encoded.Length} bytes exceeds {MaxEncodedLength}");
        }

        PeerId? peerId = null;
        ulong seq = 0;
        var addresses = new List<Multiaddr>();
        var addressCount = 0;
        var reader = new ProtobufReader(encoded);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case PeerIdField:
                    peerId = PeerId.FromBytes(reader.ReadBytes(wireType));
                    break;
                case SeqField:
                    seq = reader.ReadVarintField(wireType);
                    break;
                case AddressesField:
                    if (++addressCount > MaxAddresses)
                    {
                        throw new WireFormatException($"peer record has more than {MaxAddresses} addresses");
                    }

                    if (Multiaddr.TryDecode(ReadAddressInfo(reader.ReadBytes(wireType)), out var address))
                    {
                        addresses.Add(address);
                    }

                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return peerId is null
            ? throw new WireFormatException("peer record has no peer id")
            : new PeerRecord(peerId, seq, addresses);
    }

    /// <summary>
    /// Decodes a signed envelope holding a peer record and checks it: the signature under <see cref="EnvelopeDomain"/>,
    /// the payload type, and that the signer is the peer the record speaks for.
    /// </summary>
    /// <exception cref="WireFormatException">The envelope or the record is malformed.</exception>
    /// <exception cref="RecordVerificationException">Another payload type, a signature that does not verify, or a
    /// record signed by a key other than its peer's.</exception>
    public static (Envelope Envelope, PeerRecord Record) ConsumeEnvelope(ReadOnlySpan<byte> encoded)
    {
        var envelope = Envelope.Decode(encoded);
        if (!envelope.PayloadType.SequenceEqual(EnvelopePayloadType))
        {
            throw new RecordVerificationException(
                $"envelope payload type {Convert.ToHexStringLower(envelope.PayloadType)} is not a peer record (0301)");
        }

        if (!envelope.Verify(EnvelopeDomain))
        {
            throw new RecordVerificationException($"peer record envelope signature does not verify under domain '{EnvelopeDomain}'");
        }

        var record = FromProtobuf(envelope.Payload);
        if (!record.PeerId.Matches(envelope.PublicKey))
        {
            throw new RecordVerificationException($"peer record for {record.PeerId} is signed by the key of {PeerId.FromPublicKey(envelope.PublicKey)}");
        }

        return (envelope, record);
    }

    /// <summary>Signs the record with <paramref name="key"/>, which must be the key of <see cref="PeerId"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="key"/> belongs to another peer.</exception>
    public Envelope Seal(PrivateKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!PeerId.Matches(key.GetPublicKey()))
        {
            throw new ArgumentException($"a peer record for {PeerId} must be signed by that peer's key", nameof(key));
        }

        return Envelope.Seal(key, EnvelopeDomain, EnvelopePayloadType, ToProtobuf());
    }

    /// <summary>The protobuf encoding: fields in number order, <c>seq</c> omitted when zero (proto3), as go-libp2p writes it.</summary>
    public byte[] ToProtobuf()
    {
        var bytes = new byte[GetEncodedLength()];
        var writer = new ProtobufWriter(bytes);
        writer.WriteBytesField(PeerIdField, PeerId.Bytes, omitEmpty: false);
        writer.WriteVarintField(SeqField, Seq, omitZero: true);
        foreach (var address in Addresses)
        {
            writer.WriteLengthPrefix(AddressesField, AddressInfoLength(address));
            writer.WriteBytesField(AddressInfoMultiaddrField, address.AsSpan(), omitEmpty: true);
        }

        return bytes;
    }

    public bool Equals(PeerRecord? other) =>
        other is not null && PeerId.Equals(other.PeerId) && Seq == other.Seq && Addresses.SequenceEqual(other.Addresses);

    public override bool Equals(object? obj) => Equals(obj as PeerRecord);

    public override int GetHashCode() => HashCode.Combine(PeerId, Seq, Addresses.Count);

    /// <summary>The peer, the sequence number and the addresses as text.</summary>
    public override string ToString() => $"peer record {PeerId} seq {Seq}: [{string.Join(", ", Addresses)}]";

    private static int AddressInfoLength(Multiaddr address) =>
        ProtobufWriter.BytesFieldLength(AddressInfoMultiaddrField, address.EncodedLength, omitEmpty: true);

    /// <summary>The multiaddr bytes of an <c>AddressInfo</c>; the last occurrence wins, as protobuf requires.</summary>
    private static ReadOnlySpan<byte> ReadAddressInfo(ReadOnlySpan<byte> addressInfo)
    {
        ReadOnlySpan<byte> multiaddr = default;
        var reader = new ProtobufReader(addressInfo);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            if (field == AddressInfoMultiaddrField)
            {
                multiaddr = reader.ReadBytes(wireType);
            }
            else
            {
                reader.SkipField(wireType);
            }
        }

        return multiaddr;
    }

    private int GetEncodedLength()
    {
        var length = ProtobufWriter.BytesFieldLength(PeerIdField, PeerId.Bytes.Length, omitEmpty: false)
            + ProtobufWriter.VarintFieldLength(SeqField, Seq, omitZero: true);
        foreach (var address in Addresses)
        {
            length += ProtobufWriter.BytesFieldLength(AddressesField, AddressInfoLength(address), omitEmpty: false);
        }

        return length;
    }
}
