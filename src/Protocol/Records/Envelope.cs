using System.Buffers;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Records;

/// <summary>
/// A signed envelope (libp2p RFC 0002): a payload, its type, the signer's public key and a signature over a
/// domain-separated encoding of type and payload. Wire form (go-libp2p <c>record/pb/envelope.proto</c>):
/// <c>public_key = 1</c> (a libp2p PublicKey message), <c>payload_type = 2</c>, <c>payload = 3</c>, <c>signature = 5</c>.
/// </summary>
public sealed class Envelope
{
    /// <summary>The largest encoded envelope accepted; a peer record with many addresses fits easily.</summary>
    public const int MaxEncodedLength = 64 * 1024;

    /// <summary>The longest signing domain accepted.</summary>
    public const int MaxDomainLength = 256;

    private const int PublicKeyField = 1;
    private const int PayloadTypeField = 2;
    private const int PayloadField = 3;
    private const int SignatureField = 5;

    private readonly byte[] _payloadType;
    private readonly byte[] _payload;
    private readonly byte[] _signature;

    private Envelope(PublicKey publicKey, byte[] payloadType, byte[] payload, byte[] signature)
    {
        PublicKey = publicKey;
        _payloadType = payloadType;
        _payload = payload;
        _signature = signature;
    }

    /// <summary>The key that signed the payload.</summary>
    public PublicKey PublicKey { get; }

    /// <summary>The payload type: a multicodec code as bytes (peer records: <c>03 01</c>).</summary>
    public ReadOnlySpan<byte> PayloadType => _payloadType;

    /// <summary>The payload bytes exactly as signed.</summary>
    public ReadOnlySpan<byte> Payload => _payload;

    /// <summary>The signature over <see cref="SignedBytes"/>.</summary>
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>Signs <paramref name="payload"/> under <paramref name="domain"/> with <paramref name="key"/>.</summary>
    public static Envelope Seal(PrivateKey key, string domain, ReadOnlySpan<byte> payloadType, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        var signature = key.Sign(SignedBytes(domain, payloadType, payload));
        return new Envelope(key.GetPublicKey(), payloadType.ToArray(), payload.ToArray(), signature);
    }

    /// <summary>Decodes an envelope and checks its signature under <paramref name="domain"/>.</summary>
    /// <exception cref="WireFormatException">Malformed or oversized.</exception>
    /// <exception cref="RecordVerificationException">The signature does not verify under <paramref name="domain"/>
    /// (a wrong domain, a tampered payload, or a signature by another key).</exception>
    public static Envelope Open(ReadOnlySpan<byte> encoded, string domain)
    {
        var envelope = Decode(encoded);
        if (!envelope.Verify(domain))
        {
            throw new RecordVerificationException($"envelope signature does not verify under domain '{domain}'");
        }

        return envelope;
    }

    /// <summary>Decodes an envelope without checking its signature.</summary>
    /// <exception cref="WireFormatException">Malformed, oversized, or a field missing.</exception>
    public static Envelope Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length > MaxEncodedLength)
        {
            throw new WireFormatException($"envelope of {encoded.Length} bytes exceeds {MaxEncodedLength}");
        }

        PublicKey? publicKey = null;
        ReadOnlySpan<byte> payloadType = default, payload = default, signature = default;
        var reader = new ProtobufReader(encoded);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case PublicKeyField:
                    publicKey = PublicKey.FromProtobuf(reader.ReadBytes(wireType));
                    break;
                case PayloadTypeField:
                    payloadType = reader.ReadBytes(wireType);
                    break;
                case PayloadField:
                    payload = reader.ReadBytes(wireType);
                    break;
                case SignatureField:
                    signature = reader.ReadBytes(wireType);
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        if (publicKey is null)
        {
            throw new WireFormatException("envelope has no public key");
        }

        if (signature.IsEmpty)
        {
            throw new WireFormatException("envelope has no signature");
        }

        return new Envelope(publicKey, payloadType.ToArray(), payload.ToArray(), signature.ToArray());
    }

    /// <summary>Whether the signature verifies under <paramref name="domain"/>.</summary>
    public bool Verify(string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        return PublicKey.Verify(SignedBytes(domain, _payloadType, _payload), _signature);
    }

    /// <summary>The protobuf encoding, fields in number order as go-libp2p writes them.</summary>
    public byte[] ToProtobuf()
    {
        var keyLength = PublicKey.ProtobufLength;
        var length = ProtobufWriter.BytesFieldLength(PublicKeyField, keyLength, omitEmpty: false)
            + ProtobufWriter.BytesFieldLength(PayloadTypeField, _payloadType.Length, omitEmpty: true)
            + ProtobufWriter.BytesFieldLength(PayloadField, _payload.Length, omitEmpty: true)
            + ProtobufWriter.BytesFieldLength(SignatureField, _signature.Length, omitEmpty: true);
        var bytes = new byte[length];
        var writer = new ProtobufWriter(bytes);
        writer.WriteLengthPrefix(PublicKeyField, keyLength);
        writer.Advance(PublicKey.WriteProtobuf(writer.Remaining));
        writer.WriteBytesField(PayloadTypeField, _payloadType, omitEmpty: true);
        writer.WriteBytesField(PayloadField, _payload, omitEmpty: true);
        writer.WriteBytesField(SignatureField, _signature, omitEmpty: true);
        return bytes;
    }

    /// <summary>
    /// What is signed (RFC 0002 "Signature production"): the domain, the payload type and the payload, each
    /// prefixed by its length as an unsigned varint. The domain never travels; the verifier supplies it.
    /// </summary>
    public static byte[] SignedBytes(string domain, ReadOnlySpan<byte> payloadType, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var domainLength = System.Text.Encoding.UTF8.GetByteCount(domain);
        if (domainLength > MaxDomainLength)
        {
            throw new ArgumentException($"domain is longer than {MaxDomainLength} bytes", nameof(domain));
        }

        var buffer = new ArrayBufferWriter<byte>(domainLength + payloadType.Length + payload.Length + (3 * Varint.MaxLength));
        Varint.Write(buffer, (ulong)domainLength);
        System.Text.EncodingExtensions.GetBytes(System.Text.Encoding.UTF8, domain, buffer);
        Varint.Write(buffer, (ulong)payloadType.Length);
        buffer.Write(payloadType);
        Varint.Write(buffer, (ulong)payload.Length);
        buffer.Write(payload);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>A signed record failed verification: bad signature, wrong domain or payload type, or a signer that
/// is not the peer the record speaks for.</summary>
public sealed class RecordVerificationException : Exception
{
    public RecordVerificationException()
    {
    }

    public RecordVerificationException(string message)
        : base(message)
    {
    }

    public RecordVerificationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
