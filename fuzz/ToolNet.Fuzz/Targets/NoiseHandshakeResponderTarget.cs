using System.IO.Pipelines;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;

namespace ToolNet.Fuzz.Targets;

/// <summary>
/// Fuzz target <c>noise-handshake-responder</c>: the input is everything an initiator sends (message 1, message 3,
/// then transport frames) to a <see cref="NoiseSecurity"/> responder over in-memory pipes. The responder has the fixed
/// keys of the DERIVED libp2p handshake vector (tests/Protocol.Tests/Vectors/noise/libp2p-noise-xx-handshake-derived.json),
/// so seeds built from that vector's initiator keys get through the handshake and exercise payload verification,
/// muxer negotiation and the secured pipe.
/// </summary>
/// <remarks>
/// A clean failure is a <see cref="WireFormatException"/>; the handshake's other documented failures caused by the
/// input (<see cref="NoiseHandshakeException"/>, and the <see cref="IOException"/> of a transport that ends early) are
/// reported as one. A completed handshake must have proven a consistent identity and picked the responder's muxer
/// or none; the transport data after it is then read to its end.
/// </remarks>
internal static class NoiseHandshakeResponderTarget
{
    private const string Muxer = "/yamux/1.0.0";

    private static ReadOnlySpan<byte> IdentitySeed =>
    [
        0x6d, 0xcd, 0xe1, 0x55, 0xf1, 0xf9, 0x00, 0xe1, 0x57, 0xd2, 0x5b, 0xb5, 0xc2, 0x4b, 0x1a, 0x54,
        0xd7, 0x1e, 0xa3, 0x5b, 0x78, 0x66, 0x1e, 0xd9, 0xb1, 0xa8, 0xbe, 0x35, 0x32, 0xc3, 0xd4, 0xf5,
    ];

    private static ReadOnlySpan<byte> StaticKey =>
    [
        0x4a, 0x3a, 0xcb, 0xfd, 0xb1, 0x63, 0xde, 0xc6, 0x51, 0xdf, 0xa3, 0x19, 0x4d, 0xec, 0xe6, 0x76,
        0xd4, 0x37, 0x02, 0x9c, 0x62, 0xa4, 0x08, 0xb4, 0xc5, 0xea, 0x91, 0x14, 0x24, 0x6e, 0x48, 0x93,
    ];

    private static ReadOnlySpan<byte> EphemeralKey =>
    [
        0xbb, 0xdb, 0x4c, 0xdb, 0xd3, 0x09, 0xf1, 0xa1, 0xf2, 0xe1, 0x45, 0x69, 0x67, 0xfe, 0x28, 0x8c,
        0xad, 0xd6, 0xf7, 0x12, 0xd6, 0x5d, 0xc7, 0xb7, 0x79, 0x3d, 0x5e, 0x63, 0xda, 0x6b, 0x37, 0x5b,
    ];

    [FuzzTarget("noise-handshake-responder")]
    public static void Run(ReadOnlySpan<byte> input)
    {
        // The fuzzer calls a synchronous entry point; all input is in memory before the handshake starts.
        RunAsync(input.ToArray()).GetAwaiter().GetResult();
    }

    private static async Task RunAsync(byte[] fromInitiator)
    {
        var inbound = new Pipe();
        var outbound = new Pipe();
        await inbound.Writer.WriteAsync(fromInitiator);
        await inbound.Writer.CompleteAsync();
        using var responder = new NoiseSecurity(
            Ed25519PrivateKey.FromSeed(IdentitySeed),
            [Muxer],
            NullLogger.Instance,
            X25519KeyPair.FromPrivateKey(StaticKey),
            CreateEphemeralKey);

        SecuredChannel channel;
        try
        {
            channel = await responder.SecureInboundAsync(new Transport(inbound.Reader, outbound.Writer));
        }
        catch (NoiseHandshakeException ex)
        {
            throw new WireFormatException($"handshake rejected: {ex.Message}", ex);
        }
        catch (IOException ex) when (ex.GetType() == typeof(IOException))
        {
            throw new WireFormatException($"input ended during the handshake: {ex.Message}", ex);
        }

        await using var secured = (NoiseSecuredPipe)channel.Pipe;
        if (!channel.RemotePeer.Matches(channel.RemotePublicKey))
        {
            throw new InvalidOperationException("the remote peer id does not belong to the remote public key");
        }

        if (channel.EarlyMuxer is not (null or Muxer))
        {
            throw new InvalidOperationException($"agreed on {channel.EarlyMuxer}, which the responder does not support");
        }

        while (true)
        {
            var result = await secured.Input.ReadAsync();
            secured.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
    }

    private static X25519KeyPair CreateEphemeralKey() => X25519KeyPair.FromPrivateKey(EphemeralKey);

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
