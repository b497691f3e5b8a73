using System.Buffers;
using System.Text;
using ToolNet.Protocol;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets for the multiaddr binary and text forms.</summary>
internal static class MultiaddrTargets
{
    /// <summary>Binary decode; whatever decodes must re-encode to the same bytes and survive its own text form.</summary>
    [FuzzTarget("multiaddr-binary")]
    public static void Binary(ReadOnlySpan<byte> input)
    {
        var multiaddr = Multiaddr.Decode(input);
        if (!multiaddr.AsSpan().SequenceEqual(input))
        {
            throw new InvalidOperationException("multiaddr did not re-encode to its input");
        }

        CheckRoundTrips(multiaddr);
    }

    /// <summary>Text parse of the input read as UTF-8; whatever parses must survive both forms.</summary>
    [FuzzTarget("multiaddr-text")]
    public static void Text(ReadOnlySpan<byte> input) => CheckRoundTrips(Multiaddr.Parse(Encoding.UTF8.GetString(input)));

    private static void CheckRoundTrips(Multiaddr multiaddr)
    {
        var text = multiaddr.ToString();
        Multiaddr fromText, fromBytes;
        try
        {
            fromText = Multiaddr.Parse(text);
            fromBytes = Multiaddr.Decode(multiaddr.ToBytes());
        }
        catch (WireFormatException e)
        {
            // The input was valid, so its own encodings must be too; a rejection here is a finding, not bad input.
            throw new InvalidOperationException($"multiaddr '{text}' did not accept its own encoding: {e.Message}", e);
        }

        var written = new ArrayBufferWriter<byte>();
        multiaddr.WriteTo(written);
        if (fromText != multiaddr || fromBytes != multiaddr || fromText.ToString() != text ||
            !written.WrittenSpan.SequenceEqual(multiaddr.AsSpan()))
        {
            throw new InvalidOperationException($"multiaddr '{text}' did not round-trip");
        }
    }
}
