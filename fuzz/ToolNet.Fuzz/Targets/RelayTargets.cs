using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Relay;

namespace ToolNet.Fuzz.Targets;

/// <summary>Fuzz targets <c>relay-hop-message</c>, <c>relay-stop-message</c> and <c>relay-voucher</c>: the circuit relay
/// v2 decoders.</summary>
internal static class RelayTargets
{
    /// <summary>Decodes the input as a hop message body and as one length-prefixed hop message; what decodes must
    /// re-encode canonically to bytes that decode and encode identically again.</summary>
    [FuzzTarget("relay-hop-message")]
    public static void RunHop(ReadOnlySpan<byte> input) =>
        RunBoth(input, body => CheckRoundTrips(CircuitRelayCodec.Encode(CircuitRelayCodec.DecodeHop(body)), b => CircuitRelayCodec.Encode(CircuitRelayCodec.DecodeHop(b))));

    /// <summary>As <see cref="RunHop"/>, for stop messages.</summary>
    [FuzzTarget("relay-stop-message")]
    public static void RunStop(ReadOnlySpan<byte> input) =>
        RunBoth(input, body => CheckRoundTrips(CircuitRelayCodec.Encode(CircuitRelayCodec.DecodeStop(body)), b => CircuitRelayCodec.Encode(CircuitRelayCodec.DecodeStop(b))));

    /// <summary>Decodes the input as a voucher payload (which must round-trip) and as a voucher envelope (a verification
    /// failure is a clean rejection).</summary>
    [FuzzTarget("relay-voucher")]
    public static void RunVoucher(ReadOnlySpan<byte> input)
    {
        var isPayload = false;
        try
        {
            var voucher = RelayVoucher.FromProtobuf(input);
            if (RelayVoucher.FromProtobuf(voucher.ToProtobuf()) != voucher)
            {
                throw new InvalidOperationException("voucher did not round-trip");
            }

            isPayload = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            RelayVoucher.Open(input);
        }
        catch (RecordVerificationException ex) when (!isPayload)
        {
            throw new WireFormatException($"not a verifiable voucher: {ex.Message}", ex);
        }
        catch (Exception ex) when (isPayload && ex is WireFormatException or RecordVerificationException)
        {
        }
    }

    private static void RunBoth(ReadOnlySpan<byte> input, Action<byte[]> check)
    {
        var isBody = false;
        try
        {
            check(input.ToArray());
            isBody = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var buffer = new ReadOnlySequence<byte>(input.ToArray());
            if (!CircuitRelayCodec.TryReadDelimited(ref buffer, out var body))
            {
                throw new WireFormatException("not a whole length-prefixed message");
            }

            check(body);
        }
        catch (WireFormatException) when (isBody)
        {
        }
    }

    private static void CheckRoundTrips(byte[] canonical, Func<byte[], byte[]> reencode)
    {
        if (!reencode(canonical).AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("relay message did not round-trip");
        }
    }
}
