using System.Diagnostics.CodeAnalysis;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Peers;

/// <summary>
/// A peer id: the multihash of a peer's <c>PublicKey</c> protobuf (libp2p/specs <c>peer-ids/peer-ids.md</c>,
/// "Peer Ids"). Keys whose protobuf is at most <see cref="MaxInlineKeyLength"/> bytes (Ed25519, secp256k1) are
/// embedded with the identity multihash, longer ones (RSA, ECDSA) are hashed with sha2-256.
/// </summary>
/// <remarks>
/// A sealed class rather than a readonly struct: <c>default(PeerId)</c> would be an id with no bytes that every
/// API would have to reject, whereas a class makes "no peer" an explicit <c>null</c>, like <see cref="Multihash"/>
/// and <see cref="Cid"/>. Peer ids are long-lived (routing tables, connection maps), so the one allocation is
/// immaterial. Equality and ordering compare the multihash bytes.
/// </remarks>
public sealed class PeerId : IEquatable<PeerId>, IComparable<PeerId>, IComparable
{
    /// <summary>The longest public key protobuf that is embedded (identity multihash) rather than hashed.</summary>
    public const int MaxInlineKeyLength = 42;

    /// <summary>The longest binary peer id: an identity multihash (2-byte header) of a 42-byte key.</summary>
    public const int MaxLength = 2 + MaxInlineKeyLength;

    /// <summary>The longest text accepted by <see cref="Parse"/>; a hex CID of the longest id fits.</summary>
    public const int MaxTextLength = 128;

    private const int Sha256DigestLength = 32;

    private readonly Multihash _multihash;
    private string? _text;

    private PeerId(Multihash multihash)
    {
        _multihash = multihash;
    }

    /// <summary>The multihash: identity or sha2-256.</summary>
    public Multihash Multihash => _multihash;

    /// <summary>The binary form, the multihash bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _multihash.Bytes;

    /// <summary>Whether the public key is embedded (identity multihash) and so can be extracted.</summary>
    public bool HasInlinePublicKey => _multihash.Code == MultihashCode.Identity;

    /// <summary>The peer id of <paramref name="publicKey"/>.</summary>
    public static PeerId FromPublicKey(PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        var encoded = publicKey.ToProtobuf();
        var code = encoded.Length <= MaxInlineKeyLength ? MultihashCode.Identity : MultihashCode.Sha2_256;
        return new PeerId(Multihash.Compute(code, encoded));
    }

    /// <summary>Decodes the binary form: a sha2-256 multihash with a 32-byte digest, or an identity multihash of at
    /// most <see cref="MaxInlineKeyLength"/> bytes.</summary>
    /// <exception cref="WireFormatException">Any other multihash, or not a multihash.</exception>
    public static PeerId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxLength)
        {
            throw new WireFormatException($"peer id of {bytes.Length} bytes exceeds {MaxLength}");
        }

        return FromMultihash(Multihash.Decode(bytes));
    }

    /// <summary>Wraps a multihash after checking it can be a peer id (see <see cref="FromBytes"/>).</summary>
    /// <exception cref="WireFormatException">Not sha2-256 with a 32-byte digest, nor identity of at most 42 bytes.</exception>
    public static PeerId FromMultihash(Multihash multihash)
    {
        ArgumentNullException.ThrowIfNull(multihash);
        var valid = multihash.Code switch
        {
            MultihashCode.Sha2_256 => multihash.Digest.Length == Sha256DigestLength,
            MultihashCode.Identity => multihash.Digest.Length <= MaxInlineKeyLength,
            _ => false,
        };
        if (!valid)
        {
            throw new WireFormatException(
                $"a peer id is a 32-byte sha2-256 or an identity multihash of at most {MaxInlineKeyLength} bytes, not {multihash.FunctionName} of {multihash.Digest.Length} bytes");
        }

        return new PeerId(multihash);
    }

    /// <summary>
    /// Parses either text form (peer-ids.md, "String representation"): a bare base58btc multihash (<c>12D3KooW…</c>,
    /// <c>16Uiu2…</c>, <c>Qm…</c>: text starting with <c>1</c> or <c>Qm</c>), or a multibase CIDv1 whose codec
    /// is libp2p-key (<c>bafz…</c>).
    /// </summary>
    /// <exception cref="WireFormatException">Neither form, a CID with another codec, or an invalid multihash.</exception>
    public static PeerId Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            throw new WireFormatException($"peer id text of {text.Length} characters exceeds {MaxTextLength}");
        }

        if (text.StartsWith('1') || text.StartsWith("Qm", StringComparison.Ordinal))
        {
            return FromBytes(Multibase.DecodeBase58Btc(text));
        }

        var cid = Cid.Parse(text);
        if (cid.Codec != MulticodecCode.Libp2pKey)
        {
            throw new WireFormatException($"CID codec 0x{cid.Codec:x} is not libp2p-key (0x72)");
        }

        return FromMultihash(cid.Hash);
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out PeerId? peerId)
    {
        peerId = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            peerId = Parse(text);
            return true;
        }
        catch (WireFormatException)
        {
            return false;
        }
    }

    /// <summary>A copy of the binary form.</summary>
    public byte[] ToBytes() => _multihash.Bytes.ToArray();

    /// <summary>The canonical text: the multihash in base58btc without a multibase prefix.</summary>
    public override string ToString() => _text ??= Multibase.EncodeBase58Btc(_multihash.Bytes);

    /// <summary>The CIDv1 (codec libp2p-key) of this id.</summary>
    public Cid ToCid() => Cid.CreateV1(MulticodecCode.Libp2pKey, _multihash);

    /// <summary>The CIDv1 text, base32 (<c>bafz…</c>) unless another multibase is asked for.</summary>
    public string ToCidString(MultibaseEncoding encoding = MultibaseEncoding.Base32Lower) => ToCid().ToString(encoding);

    /// <summary>Extracts the embedded public key of an identity-multihash id.</summary>
    /// <returns>False for hashed ids, and for identity ids whose bytes are not a valid public key of this id.</returns>
    public bool TryExtractPublicKey([NotNullWhen(true)] out PublicKey? publicKey)
    {
        publicKey = null;
        if (!HasInlinePublicKey)
        {
            return false;
        }

        try
        {
            var candidate = PublicKey.FromProtobuf(_multihash.Digest);
            if (Matches(candidate))
            {
                publicKey = candidate;
            }
        }
        catch (WireFormatException)
        {
        }

        return publicKey is not null;
    }

    /// <summary>Whether this is the peer id of <paramref name="publicKey"/>.</summary>
    public bool Matches(PublicKey publicKey) => Equals(FromPublicKey(publicKey));

    public bool Equals(PeerId? other) => other is not null && _multihash.Bytes.SequenceEqual(other._multihash.Bytes);

    public override bool Equals(object? obj) => Equals(obj as PeerId);

    public override int GetHashCode() => _multihash.GetHashCode();

    /// <summary>Orders by the binary form, bytewise; null sorts first.</summary>
    public int CompareTo(PeerId? other) => other is null ? 1 : _multihash.Bytes.SequenceCompareTo(other._multihash.Bytes);

    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        PeerId other => CompareTo(other),
        _ => throw new ArgumentException("not a PeerId", nameof(obj)),
    };

    public static bool operator ==(PeerId? left, PeerId? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(PeerId? left, PeerId? right) => !(left == right);

    public static bool operator <(PeerId? left, PeerId? right) => Compare(left, right) < 0;

    public static bool operator <=(PeerId? left, PeerId? right) => Compare(left, right) <= 0;

    public static bool operator >(PeerId? left, PeerId? right) => Compare(left, right) > 0;

    public static bool operator >=(PeerId? left, PeerId? right) => Compare(left, right) >= 0;

    private static int Compare(PeerId? left, PeerId? right) => left is null ? (right is null ? 0 : -1) : left.CompareTo(right);
}
