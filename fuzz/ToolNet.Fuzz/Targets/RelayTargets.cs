using System.Buffers;
using ToolNet.Protocol;
using ToolNet.Protocol.Core;
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
        Run(input, CircuitRelayCodec.Hop, message => CircuitRelayCodec.ToBytes(message));

    /// <summary>As <see cref="RunHop"/>, for stop messages.</summary>
    [FuzzTarget("relay-stop-message")]
    public static void RunStop(ReadOnlySpan<byte> input) =>
        Run(input, CircuitRelayCodec.Stop, message => CircuitRelayCodec.ToBytes(message));

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

    private static void Run<TMessage>(ReadOnlySpan<byte> input, IMessageCodec<TMessage> codec, Func<TMessage, byte[]> encode)
    {
        var isBody = false;
        try
        {
            CheckRoundTrips(codec.Decode(input), codec, encode);
            isBody = true;
        }
        catch (WireFormatException)
        {
        }

        try
        {
            var buffer = new ReadOnlySequence<byte>(input.ToArray());
            if (!LengthPrefixedMessages.TryRead(ref buffer, codec, out var message))
            {
                throw new WireFormatException("not a whole length-prefixed message");
            }

            CheckRoundTrips(message, codec, encode);
        }
        catch (WireFormatException) when (isBody)
        {
        }
    }

    private static void CheckRoundTrips<TMessage>(TMessage message, IMessageCodec<TMessage> codec, Func<TMessage, byte[]> encode)
    {
        var canonical = encode(message);
        if (!encode(codec.Decode(canonical)).AsSpan().SequenceEqual(canonical))
        {
            throw new InvalidOperationException("relay message did not round-trip");
        }
    }
}
