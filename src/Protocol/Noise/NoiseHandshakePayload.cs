using System.Text;

using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// The libp2p handshake payload carried (encrypted) in XX messages 2 and 3 (libp2p/specs noise/README.md,
/// "The libp2p Handshake Payload"):
/// <code>
/// message NoiseHandshakePayload {
///   optional bytes identity_key = 1;
///   optional bytes identity_sig = 2;
///   optional NoiseExtensions extensions = 4;
/// }
/// </code>
/// This type only encodes and decodes; the libp2p layer decodes the identity key and checks the signature.
/// Decoding copies every field out of the input, so the input buffer may be reused afterwards.
/// </summary>
public sealed class NoiseHandshakePayload
{
    private const int IdentityKeyField = 1;
    private const int IdentitySignatureField = 2;
    private const int ExtensionsField = 4;

    /// <summary>The sender's identity public key, a serialized libp2p <c>PublicKey</c> protobuf (peer-ids spec).</summary>
    public ReadOnlyMemory<byte> IdentityKey { get; init; }

    /// <summary>The identity key's signature over <c>"noise-libp2p-static-key:" || noise static public key</c>.</summary>
    public ReadOnlyMemory<byte> IdentitySignature { get; init; }

    /// <summary>The extensions, or null when absent.</summary>
    public NoiseExtensions? Extensions { get; init; }

    /// <summary>Decodes a payload. Unknown fields are skipped, as protobuf requires. Throws
    /// <see cref="WireFormatException"/> for truncated or malformed input (the payload of one Noise message, so at most
    /// 65535 bytes).</summary>
    public static NoiseHandshakePayload Decode(ReadOnlySpan<byte> source)
    {
        if (source.Length > NoiseConstants.MaxMessageLength)
        {
            throw new WireFormatException($"a Noise handshake payload is at most {NoiseConstants.MaxMessageLength} bytes, got {source.Length}");
        }

        var reader = new ProtobufReader(source);
        ReadOnlyMemory<byte> identityKey = default;
        ReadOnlyMemory<byte> identitySignature = default;
        NoiseExtensions? extensions = null;
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case IdentityKeyField:
                    identityKey = reader.ReadBytes(wireType).ToArray();
                    break;
                case IdentitySignatureField:
                    identitySignature = reader.ReadBytes(wireType).ToArray();
                    break;
                case ExtensionsField:
                    // A repeated embedded message field merges (protobuf encoding spec); libp2p peers send it once.
                    extensions = NoiseExtensions.Decode(reader.ReadBytes(wireType), extensions);
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new NoiseHandshakePayload { IdentityKey = identityKey, IdentitySignature = identitySignature, Extensions = extensions };
    }

    /// <summary>The encoded length in bytes.</summary>
    public int GetEncodedLength()
    {
        var length = ProtobufWriter.BytesFieldLength(IdentityKeyField, IdentityKey.Length, omitEmpty: true)
            + ProtobufWriter.BytesFieldLength(IdentitySignatureField, IdentitySignature.Length, omitEmpty: true);
        return Extensions is null ? length : length + ProtobufWriter.BytesFieldLength(ExtensionsField, Extensions.GetEncodedLength(), omitEmpty: false);
    }

    /// <summary>Encodes into <paramref name="destination"/> (at least <see cref="GetEncodedLength"/> bytes), fields in
    /// number order, empty byte fields omitted. Returns the bytes written.</summary>
    public int Encode(Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination[..GetEncodedLength()]);
        writer.WriteBytesField(IdentityKeyField, IdentityKey.Span, omitEmpty: true);
        writer.WriteBytesField(IdentitySignatureField, IdentitySignature.Span, omitEmpty: true);
        if (Extensions is not null)
        {
            writer.WriteLengthPrefix(ExtensionsField, Extensions.GetEncodedLength());
            writer.Advance(Extensions.Encode(writer.Remaining));
        }

        return writer.Written;
    }

    /// <summary>Encodes into a new array.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[GetEncodedLength()];
        Encode(bytes);
        return bytes;
    }
}

/// <summary>
/// The extension registry inside <see cref="NoiseHandshakePayload"/>:
/// <code>
/// message NoiseExtensions {
///   repeated bytes webtransport_certhashes = 1;
///   repeated string stream_muxers = 2;
/// }
/// </code>
/// <c>stream_muxers</c> carries the inlined muxer negotiation (libp2p/specs connections/inlined-muxer-negotiation.md).
/// </summary>
public sealed class NoiseExtensions
{
    private const int WebTransportCertHashesField = 1;
    private const int StreamMuxersField = 2;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>WebTransport certificate hashes (multihashes), in order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> WebTransportCertHashes { get; init; } = [];

    /// <summary>Supported stream muxer protocol ids, most preferred first.</summary>
    public IReadOnlyList<string> StreamMuxers { get; init; } = [];

    internal static NoiseExtensions Decode(ReadOnlySpan<byte> source, NoiseExtensions? mergeInto)
    {
        var certHashes = new List<ReadOnlyMemory<byte>>(mergeInto?.WebTransportCertHashes ?? []);
        var muxers = new List<string>(mergeInto?.StreamMuxers ?? []);
        var reader = new ProtobufReader(source);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case WebTransportCertHashesField:
                    certHashes.Add(reader.ReadBytes(wireType).ToArray());
                    break;
                case StreamMuxersField:
                    muxers.Add(DecodeString(reader.ReadBytes(wireType)));
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new NoiseExtensions { WebTransportCertHashes = certHashes, StreamMuxers = muxers };
    }

    internal int GetEncodedLength()
    {
        var length = 0;
        foreach (var hash in WebTransportCertHashes)
        {
            length += ProtobufWriter.BytesFieldLength(WebTransportCertHashesField, hash.Length, omitEmpty: false);
        }

        foreach (var muxer in StreamMuxers)
        {
            length += ProtobufWriter.BytesFieldLength(StreamMuxersField, StrictUtf8.GetByteCount(muxer), omitEmpty: false);
        }

        return length;
    }

    internal int Encode(Span<byte> destination)
    {
        var writer = new ProtobufWriter(destination);
        foreach (var hash in WebTransportCertHashes)
        {
            writer.WriteBytesField(WebTransportCertHashesField, hash.Span, omitEmpty: false);
        }

        foreach (var muxer in StreamMuxers)
        {
            writer.WriteLengthPrefix(StreamMuxersField, StrictUtf8.GetByteCount(muxer));
            writer.Advance(StrictUtf8.GetBytes(muxer, writer.Remaining));
        }

        return writer.Written;
    }

    private static string DecodeString(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new WireFormatException("a stream_muxers entry is not valid UTF-8", ex);
        }
    }
}
