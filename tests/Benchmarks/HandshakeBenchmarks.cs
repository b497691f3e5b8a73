using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;

namespace ToolNet.Benchmarks;

/// <summary>The public-key work of a fresh connection, both sides in one process, no sockets: a whole libp2p Noise XX
/// handshake (ephemeral keys, three agreements a side, the identity signatures over the static keys checked) over
/// in-memory pipes, and an Ed25519 signature and verification on their own (identify's signed peer record costs one
/// verification a side).</summary>
[MemoryDiagnoser]
public class HandshakeBenchmarks
{
    private static readonly string[] Muxers = ["/yamux/1.0.0"];
    private readonly PrivateKey _identity = PrivateKey.Generate(KeyType.Ed25519);
    private readonly byte[] _message = new byte[64];
    private NoiseSecurity _initiator = null!;
    private NoiseSecurity _responder = null!;
    private byte[] _signature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _initiator = new NoiseSecurity(PrivateKey.Generate(KeyType.Ed25519), Muxers, NullLogger.Instance);
        _responder = new NoiseSecurity(PrivateKey.Generate(KeyType.Ed25519), Muxers, NullLogger.Instance);
        _signature = _identity.Sign(_message);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _initiator.Dispose();
        _responder.Dispose();
    }

    /// <summary>Both sides of one handshake; the secured pipes are torn down afterwards.</summary>
    [Benchmark]
    public async Task<string?> NoiseXXBothSides()
    {
        var toResponder = new Pipe();
        var toInitiator = new Pipe();
        var outbound = _initiator.SecureOutboundAsync(new DuplexPipe(toInitiator.Reader, toResponder.Writer), _responder.LocalPeer).AsTask();
        var inbound = _responder.SecureInboundAsync(new DuplexPipe(toResponder.Reader, toInitiator.Writer)).AsTask();
        var channels = await Task.WhenAll(outbound, inbound);
        foreach (var channel in channels)
        {
            await channel.Pipe.Output.CompleteAsync();
            await channel.Pipe.Input.CompleteAsync();
        }

        return channels[0].EarlyMuxer;
    }

    [Benchmark]
    public byte[] Ed25519Sign() => _identity.Sign(_message);

    [Benchmark]
    public bool Ed25519Verify() => _identity.GetPublicKey().Verify(_message, _signature);
}
