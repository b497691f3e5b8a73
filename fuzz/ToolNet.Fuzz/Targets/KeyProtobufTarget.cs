using ToolNet.Protocol;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz target <c>key-protobuf</c>: the PublicKey and PrivateKey protobuf decoders.</summary>
internal static class KeyProtobufTarget
{
    /// <summary>Decodes the input as a public key (which must re-encode to exactly the input) and as a private key
    /// (whose canonical re-encoding must decode to the same key and encode identically again). The input is
    /// rejected only when neither decoder accepts it.</summary>
    [FuzzTarget("key-protobuf")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        var isPublicKey = false;
        try
        {
            var publicKey = PublicKey.FromProtobuf(input);
            if (!publicKey.ToProtobuf().AsSpan().SequenceEqual(input) || !PeerId.FromPublicKey(publicKey).Matches(publicKey))
            {
                throw new InvalidOperationException("public key protobuf did not round-trip");
            }

            isPublicKey = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var privateKey = PrivateKey.FromProtobuf(input);
            var canonical = privateKey.ToProtobuf();
            var again = PrivateKey.FromProtobuf(canonical);
            if (!again.Equals(privateKey) || !again.ToProtobuf().AsSpan().SequenceEqual(canonical)
                || !PublicKey.FromProtobuf(privateKey.GetPublicKey().ToProtobuf()).Equals(privateKey.GetPublicKey()))
            {
                throw new InvalidOperationException("private key protobuf did not round-trip");
            }
        }
        catch (WireFormatException) when (isPublicKey)
        {
        }
    }
}
