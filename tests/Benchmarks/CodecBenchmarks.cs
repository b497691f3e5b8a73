using System.Buffers;
using BenchmarkDotNet.Attributes;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Noise;

namespace ToolNet.Benchmarks;

[MemoryDiagnoser]
public class VarintBenchmarks
{
    private readonly byte[] _encoded = Varint.Encode(300_000);
    private readonly byte[] _buffer = new byte[Varint.MaxLength];

    [Benchmark]
    public int Write() => Varint.Write(_buffer, 300_000);

    [Benchmark]
    public ulong Read() => Varint.Read(_encoded, out _);
}

[MemoryDiagnoser]
public class MultiaddrBenchmarks
{
    private const string Text = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";
    private readonly byte[] _binary = Multiaddr.Parse(Text).ToBytes();

    [Benchmark]
    public Multiaddr ParseText() => Multiaddr.Parse(Text);

    [Benchmark]
    public Multiaddr DecodeBinary() => Multiaddr.Decode(_binary);
}

/// <summary>One Noise transport frame (65519 plaintext bytes) encrypted into a pipe-like buffer writer, and
/// decrypted back: the per-frame cost of the secure data path.</summary>
[MemoryDiagnoser]
public class NoiseFrameBenchmarks
{
    private readonly byte[] _plaintext = new byte[NoiseConstants.MaxPlaintextLength];
    private readonly ArrayBufferWriter<byte> _wire = new(NoiseConstants.MaxMessageLength + 2);
    private readonly ArrayBufferWriter<byte> _decrypted = new(NoiseConstants.MaxPlaintextLength);
    private CipherState _sender = null!;
    private CipherState _receiver = null!;

    [GlobalSetup]
    public void Setup()
    {
        var key = new byte[32];
        _sender = new CipherState(key);
        _receiver = new CipherState(key);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public int EncryptAndDecryptFrame()
    {
        _wire.ResetWrittenCount();
        _decrypted.ResetWrittenCount();
        NoiseFrameCodec.WriteFrame(_wire, _sender, _plaintext);
        var wire = new ReadOnlySequence<byte>(_wire.WrittenMemory);
        NoiseFrameCodec.TryReadFrame(ref wire, _receiver, _decrypted, out var length);
        return length;
    }
}

/// <summary>One X25519 agreement (three per side in a Noise XX handshake) and one key generation (one per side):
/// the public-key cost of a fresh connection.</summary>
public class X25519Benchmarks
{
    private readonly X25519KeyPair _local = X25519KeyPair.Generate();
    private readonly X25519KeyPair _remote = X25519KeyPair.Generate();
    private readonly byte[] _shared = new byte[NoiseConstants.DhLength];

    [Benchmark]
    public byte Agree()
    {
        _local.Agree(_remote.PublicKey, _shared);
        return _shared[0];
    }

    [Benchmark]
    public int Generate()
    {
        using var pair = X25519KeyPair.Generate();
        return pair.PublicKey[0];
    }
}
