using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Protobuf;

namespace ToolNet.Protocol.Plaintext;

/// <summary>The one message of <c>/plaintext/2.0.0</c> (libp2p/specs plaintext, "Messages"): a peer id and the
/// public key it is derived from.</summary>
/// <param name="PeerId">The sender's peer id (field 1, binary multihash).</param>
/// <param name="PublicKey">The sender's identity key (field 2, the peer-id spec's PublicKey message).</param>
public sealed record PlaintextExchange(PeerId PeerId, PublicKey PublicKey);

/// <summary>The pure codec of <see cref="PlaintextExchange"/>; both fields are required in practice, since the spec's
/// exchange is pointless without them.</summary>
public sealed class PlaintextExchangeCodec : IMessageCodec<PlaintextExchange>
{
    private const int IdField = 1;
    private const int PublicKeyField = 2;

    /// <summary>The one instance.</summary>
    public static PlaintextExchangeCodec Instance { get; } = new();

    /// <summary>An RSA-8192 key's protobuf is about 1.1 KB; peer ids are at most a few dozen bytes.</summary>
    public int MaxMessageLength => 4096;

    /// <inheritdoc/>
    public int GetEncodedLength(PlaintextExchange message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return ProtobufWriter.BytesFieldLength(IdField, message.PeerId.Bytes.Length, omitEmpty: false)
            + ProtobufWriter.BytesFieldLength(PublicKeyField, message.PublicKey.ToProtobuf().Length, omitEmpty: false);
    }

    /// <inheritdoc/>
    public void Encode(PlaintextExchange message, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        var writer = new ProtobufWriter(destination);
        writer.WriteBytesField(IdField, message.PeerId.Bytes, omitEmpty: false);
        writer.WriteBytesField(PublicKeyField, message.PublicKey.ToProtobuf(), omitEmpty: false);
    }

    /// <inheritdoc/>
    /// <exception cref="WireFormatException">Malformed, a field missing, or an id that is not the key's.</exception>
    public PlaintextExchange Decode(ReadOnlySpan<byte> body)
    {
        var reader = new ProtobufReader(body);
        PeerId? id = null;
        PublicKey? key = null;
        while (reader.TryReadTag(out var field, out var wireType))
        {
            switch (field)
            {
                case IdField:
                    id = PeerId.FromBytes(reader.ReadBytes(wireType));
                    break;
                case PublicKeyField:
                    key = PublicKey.FromProtobuf(reader.ReadBytes(wireType));
                    break;
                default:
                    reader.SkipField(wireType);
                    break;
            }
        }

        if (id is null || key is null)
        {
            throw new WireFormatException($"the plaintext exchange lacks its {(id is null ? "id" : "pubkey")}");
        }

        // "each side will validate that the given peer id is consistent with the given public key" (spec, Exchange).
        var derived = PeerId.FromPublicKey(key);
        return derived == id ? new PlaintextExchange(id, key) : throw new WireFormatException($"the plaintext exchange's id {id} is not its key's peer id {derived}");
    }
}
