using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.PubSub;

/// <summary>Why a message's author fields do not check out (<see cref="MessageSigning.Verify"/>).</summary>
public enum SignatureCheck
{
    /// <summary>Signed by the key of its <c>from</c> peer.</summary>
    Valid,

    /// <summary><c>from</c>, <c>seqno</c> or <c>signature</c> is missing, which StrictSign does not allow.</summary>
    Unsigned,

    /// <summary><c>from</c> is not a peer id.</summary>
    InvalidAuthor,

    /// <summary>No key: <c>key</c> is absent and the peer id does not embed one.</summary>
    NoKey,

    /// <summary><c>key</c> is not a public key, or not the key of the <c>from</c> peer.</summary>
    KeyMismatch,

    /// <summary>The signature does not verify.</summary>
    BadSignature,
}

/// <summary>
/// Message signing as pubsub/README.md "Message Signing" defines it: the author signs <c>"libp2p-pubsub:"</c>
/// followed by the marshalled message without <c>signature</c> and <c>key</c>; <c>key</c> carries the public key only
/// when the peer id cannot inline it, and must then match the peer id.
/// </summary>
public static class MessageSigning
{
    /// <summary>Returns <paramref name="message"/> with <c>from</c> set to <paramref name="identityKey"/>'s peer,
    /// signed, and with <c>key</c> set when that peer id does not embed its key.</summary>
    public static PubSubMessage Sign(PubSubMessage message, PrivateKey identityKey)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(identityKey);
        var publicKey = identityKey.GetPublicKey();
        var author = PeerId.FromPublicKey(publicKey);
        var unsigned = message with { From = author.ToBytes(), Signature = null, Key = null };
        return unsigned with
        {
            Signature = identityKey.Sign(PubSubRpcCodec.GetSignedBytes(unsigned)),
            Key = author.HasInlinePublicKey ? null : publicKey.ToProtobuf(),
        };
    }

    /// <summary>Checks that <paramref name="message"/> carries an author, a sequence number and a signature by the
    /// author's key (StrictSign).</summary>
    public static SignatureCheck Verify(PubSubMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.From is null || message.Seqno is null || message.Signature is null)
        {
            return SignatureCheck.Unsigned;
        }

        PeerId author;
        try
        {
            author = PeerId.FromBytes(message.From);
        }
        catch (WireFormatException)
        {
            return SignatureCheck.InvalidAuthor;
        }

        PublicKey? key;
        if (message.Key is not null)
        {
            try
            {
                key = PublicKey.FromProtobuf(message.Key);
            }
            catch (WireFormatException)
            {
                return SignatureCheck.KeyMismatch;
            }

            if (!author.Matches(key))
            {
                return SignatureCheck.KeyMismatch;
            }
        }
        else if (!author.TryExtractPublicKey(out key))
        {
            return SignatureCheck.NoKey;
        }

        return key.Verify(PubSubRpcCodec.GetSignedBytes(message), message.Signature) ? SignatureCheck.Valid : SignatureCheck.BadSignature;
    }
}
