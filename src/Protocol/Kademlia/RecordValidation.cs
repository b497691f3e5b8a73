using System.Text;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;
using ToolNet.Protocol.Records;

namespace ToolNet.Protocol.Kademlia;

/// <summary>A record refused by its namespace's validator (or because no validator knows its namespace).</summary>
public sealed class RecordValidationException : Exception
{
    public RecordValidationException()
    {
    }

    public RecordValidationException(string message)
        : base(message)
    {
    }

    public RecordValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Checks and orders the records of one key namespace (go-libp2p-record's Validator).</summary>
public interface IRecordValidator
{
    /// <summary>Throws <see cref="RecordValidationException"/> when <paramref name="value"/> is not a valid record
    /// for <paramref name="key"/>.</summary>
    void Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>The index of the best of <paramref name="values"/> (all valid) for <paramref name="key"/>.</summary>
    int Select(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values);
}

/// <summary>
/// Dispatches on the key's namespace, <c>/&lt;namespace&gt;/…</c>: a key of an unknown namespace is refused, as
/// go-libp2p-kad-dht refuses it.
/// </summary>
public sealed class NamespacedValidator : IRecordValidator
{
    private readonly Dictionary<string, IRecordValidator> _validators;

    /// <summary>A validator for the given namespaces.</summary>
    public NamespacedValidator(IReadOnlyDictionary<string, IRecordValidator> validators) =>
        _validators = new Dictionary<string, IRecordValidator>(validators, StringComparer.Ordinal);

    /// <summary>The built-in namespaces: <c>pk</c> and <c>toolnet</c>.</summary>
    public static NamespacedValidator Default { get; } = new(new Dictionary<string, IRecordValidator>
    {
        [PublicKeyValidator.Namespace] = new PublicKeyValidator(),
        [SignedValueValidator.Namespace] = new SignedValueValidator(),
    });

    public void Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => For(key).Validate(key, value);

    public int Select(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values) => For(key).Select(key, values);

    /// <summary>The namespace of <paramref name="key"/> (<c>/ns/rest</c>), or null when it has none.</summary>
    public static string? NamespaceOf(ReadOnlySpan<byte> key)
    {
        if (key.Length < 3 || key[0] != '/')
        {
            return null;
        }

        var end = key[1..].IndexOf((byte)'/');
        return end <= 0 ? null : Encoding.ASCII.GetString(key.Slice(1, end));
    }

    private IRecordValidator For(ReadOnlySpan<byte> key)
    {
        var ns = NamespaceOf(key) ?? throw new RecordValidationException("the record key has no /namespace/ prefix");
        return _validators.TryGetValue(ns, out var validator)
            ? validator
            : throw new RecordValidationException($"no validator for the record namespace '{ns}'");
    }
}

/// <summary>
/// The <c>pk</c> namespace (libp2p/specs <c>kad-dht/README.md</c>, "Validation"): the key is <c>/pk/</c> followed by
/// a peer id's bytes, the value that peer's public key protobuf, which must hash to the id. Every valid value is the
/// same key, so any will do.
/// </summary>
public sealed class PublicKeyValidator : IRecordValidator
{
    /// <summary>The namespace.</summary>
    public const string Namespace = "pk";

    /// <summary>The record key of <paramref name="peer"/>'s public key.</summary>
    public static byte[] KeyFor(PeerId peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return [.. "/pk/"u8, .. peer.Bytes];
    }

    public void Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        if (!key.StartsWith("/pk/"u8))
        {
            throw new RecordValidationException("a public key record key must start with /pk/");
        }

        PeerId peer;
        PublicKey publicKey;
        try
        {
            peer = PeerId.FromBytes(key[4..]);
            publicKey = PublicKey.FromProtobuf(value);
        }
        catch (Exception ex) when (ex is WireFormatException or ArgumentException or FormatException)
        {
            throw new RecordValidationException($"a malformed public key record: {ex.Message}", ex);
        }

        if (!peer.Matches(publicKey))
        {
            throw new RecordValidationException($"the public key does not hash to the peer id {peer}");
        }
    }

    public int Select(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values) => 0;
}

/// <summary>
/// ToolNet's namespace of signed mutable values, <c>/toolnet/&lt;peer id&gt;/&lt;name&gt;</c> (peer id in base58):
/// the value is a signed envelope (RFC 0002, domain <see cref="Domain"/>) by that peer's key over a
/// <see cref="SignedValue"/> naming the same key, with a sequence number; the highest sequence number wins.
/// Documented in <c>spec/dht-records.md</c>.
/// </summary>
public sealed class SignedValueValidator : IRecordValidator
{
    /// <summary>The namespace.</summary>
    public const string Namespace = "toolnet";

    /// <summary>The envelope signature domain.</summary>
    public const string Domain = "toolnet-dht-record";

    /// <summary>The envelope payload type: the multicodec-style tag of a <see cref="SignedValue"/>.</summary>
    public static ReadOnlySpan<byte> PayloadType => "/toolnet/dht-record"u8;

    /// <summary>The longest name after the peer id.</summary>
    public const int MaxNameLength = 256;

    /// <summary>The record key of <paramref name="name"/> under <paramref name="owner"/>.</summary>
    public static byte[] KeyFor(PeerId owner, string name)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var key = Encoding.UTF8.GetBytes($"/{Namespace}/{owner}/{name}");
        return name.Length > MaxNameLength ? throw new ArgumentException($"the name is longer than {MaxNameLength}", nameof(name)) : key;
    }

    /// <summary>Seals <paramref name="value"/> under <paramref name="key"/> with sequence number <paramref name="seq"/>.</summary>
    public static byte[] Seal(PrivateKey owner, ReadOnlySpan<byte> key, ulong seq, ReadOnlySpan<byte> value)
    {
        var payload = SignedValue.Encode(key, seq, value);
        return Envelope.Seal(owner, Domain, PayloadType, payload).ToProtobuf();
    }

    /// <summary>Opens and checks a value, returning its contents.</summary>
    /// <exception cref="RecordValidationException">Not a valid value for <paramref name="key"/>.</exception>
    public static SignedValue Open(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var owner = OwnerOf(key);
        Envelope envelope;
        SignedValue contents;
        try
        {
            envelope = Envelope.Open(value, Domain);
            contents = SignedValue.Decode(envelope.Payload);
        }
        catch (Exception ex) when (ex is WireFormatException or RecordVerificationException or ArgumentException)
        {
            throw new RecordValidationException($"not a valid signed value: {ex.Message}", ex);
        }

        if (!envelope.PayloadType.SequenceEqual(PayloadType))
        {
            throw new RecordValidationException("the envelope's payload type is not a ToolNet DHT record");
        }

        if (!owner.Matches(envelope.PublicKey))
        {
            throw new RecordValidationException($"the value is signed by {PeerId.FromPublicKey(envelope.PublicKey)}, not by the key's owner {owner}");
        }

        return contents.Key.Span.SequenceEqual(key)
            ? contents
            : throw new RecordValidationException("the signed value names another key");
    }

    public void Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Open(key, value);

    public int Select(ReadOnlySpan<byte> key, IReadOnlyList<ReadOnlyMemory<byte>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var best = 0;
        ulong bestSeq = 0;
        for (var i = 0; i < values.Count; i++)
        {
            var seq = Open(key, values[i].Span).Seq;
            if (i == 0 || seq > bestSeq)
            {
                best = i;
                bestSeq = seq;
            }
        }

        return best;
    }

    private static PeerId OwnerOf(ReadOnlySpan<byte> key)
    {
        var prefix = "/toolnet/"u8;
        if (!key.StartsWith(prefix))
        {
            throw new RecordValidationException($"a signed value key must start with /{Namespace}/");
        }

        var rest = key[prefix.Length..];
        var slash = rest.IndexOf((byte)'/');
        if (slash <= 0 || rest.Length - slash - 1 is 0 or > MaxNameLength)
        {
            throw new RecordValidationException("a signed value key is /toolnet/<peer id>/<name>");
        }

        return PeerId.TryParse(Encoding.ASCII.GetString(rest[..slash]), out var owner)
            ? owner
            : throw new RecordValidationException("the signed value key does not name a valid peer id");
    }
}

/// <summary>The signed payload of a ToolNet DHT value: <c>key = 1</c> (bytes), <c>seq = 2</c> (uint64),
/// <c>value = 3</c> (bytes).</summary>
/// <param name="Key">The record key the value is for.</param>
/// <param name="Seq">The sequence number; a higher one replaces a lower one.</param>
/// <param name="Value">The value itself.</param>
public sealed record SignedValue(ReadOnlyMemory<byte> Key, ulong Seq, ReadOnlyMemory<byte> Value)
{
    internal static byte[] Encode(ReadOnlySpan<byte> key, ulong seq, ReadOnlySpan<byte> value)
    {
        var length = ProtobufWriter.BytesFieldLength(1, key.Length, omitEmpty: true)
            + ProtobufWriter.VarintFieldLength(2, seq, omitZero: true)
            + ProtobufWriter.BytesFieldLength(3, value.Length, omitEmpty: true);
        var bytes = new byte[length];
        var writer = new ProtobufWriter(bytes);
        writer.WriteBytesField(1, key, omitEmpty: true);
        writer.WriteVarintField(2, seq, omitZero: true);
        writer.WriteBytesField(3, value, omitEmpty: true);
        return bytes;
    }

    internal static SignedValue Decode(ReadOnlySpan<byte> payload)
    {
        byte[] key = [];
        byte[] value = [];
        ulong seq = 0;
        var reader = new ProtobufReader(payload);
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    key = reader.ReadBoundedBytes(wireType, KadCodec.MaxKeyLength, "signed value key");
                    break;
                case 2:
                    seq = reader.ReadVarintField(wireType);
                    break;
                case 3:
                    value = reader.ReadBoundedBytes(wireType, KadCodec.MaxRecordValueLength, "signed value");
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        return new SignedValue(key, seq, value);
    }
}
