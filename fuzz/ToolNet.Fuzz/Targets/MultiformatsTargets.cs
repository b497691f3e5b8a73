using ToolNet.Protocol.Multiformats;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets for the multiformats primitives.</summary>
internal static class MultiformatsTargets
{
    /// <summary>Varint decode; a decoded value must re-encode to exactly the bytes consumed.</summary>
    [FuzzTarget("varint")]
    public static void Varint(ReadOnlySpan<byte> input)
    {
        var value = Protocol.Multiformats.Varint.Read(input, out var read);
        if (!Protocol.Multiformats.Varint.Encode(value).AsSpan().SequenceEqual(input[..read]))
        {
            throw new InvalidOperationException("varint did not round-trip");
        }
    }

    /// <summary>Multihash and CID decode; whatever decodes must re-encode to the same bytes.</summary>
    [FuzzTarget("multihash-cid")]
    public static void MultihashCid(ReadOnlySpan<byte> input)
    {
        try
        {
            var hash = Multihash.Decode(input);
            if (!hash.Bytes.SequenceEqual(input))
            {
                throw new InvalidOperationException("multihash did not round-trip");
            }
        }
        catch (Protocol.WireFormatException)
        {
        }

        var cid = Cid.Decode(input);
        if (!cid.ToBytes().AsSpan().SequenceEqual(input) || !Cid.Parse(cid.ToString()).Equals(cid))
        {
            throw new InvalidOperationException("CID did not round-trip");
        }
    }
}
