using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>Inlined stream muxer negotiation (connections/inlined-muxer-negotiation.md): the pure rule and the
/// handshake end to end.</summary>
public class NoiseMuxerNegotiationTests(IdentityKeys keys) : IClassFixture<IdentityKeys>
{
    private const string Yamux = "/yamux/1.0.0";
    private const string Mplex = "/mplex/6.7.0";

    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    [Fact]
    public void The_initiators_preference_wins()
    {
        // The spec's example: the responder prefers mplex, the initiator yamux; the result is yamux (libp2p/specs#601).
        Assert.Equal(Yamux, NoiseMuxerNegotiation.Select([Yamux, Mplex], [Mplex, Yamux]));
        Assert.Equal(Mplex, NoiseMuxerNegotiation.Select([Mplex, Yamux], [Yamux, Mplex]));
        Assert.Equal(Mplex, NoiseMuxerNegotiation.Select(["/other/1", Mplex], [Yamux, Mplex]));
    }

    [Fact]
    public void No_list_on_either_side_means_multistream_select_afterwards()
    {
        Assert.Null(NoiseMuxerNegotiation.Select([], [Yamux]));
        Assert.Null(NoiseMuxerNegotiation.Select([Yamux], []));
        Assert.Null(NoiseMuxerNegotiation.Select([], []));
    }

    [Fact]
    public void Lists_without_overlap_fail_and_say_so_safely()
    {
        var failure = Assert.Throws<NoiseHandshakeException>(() => NoiseMuxerNegotiation.Select([Yamux], ["/evil\r\nline", new string('x', 500)]));
        Assert.Contains($"initiator offered [{Yamux}]", failure.Message, StringComparison.Ordinal);
        Assert.Contains("/evil??line", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 65), failure.Message, StringComparison.Ordinal);
        var many = Enumerable.Range(0, 100).Select(i => $"/m/{i}").ToArray();
        Assert.Contains("92 more", Assert.Throws<NoiseHandshakeException>(() => NoiseMuxerNegotiation.Select(many, [Yamux])).Message, StringComparison.Ordinal);
    }

    [Property]
    public void Select_returns_the_first_initiator_muxer_the_responder_supports(byte[] initiatorCodes, byte[] responderCodes)
    {
        // Names from a small alphabet, so that lists overlap often.
        var initiator = initiatorCodes.Select(c => $"/m/{c % 6}").ToArray();
        var responder = responderCodes.Select(c => $"/m/{c % 6}").ToArray();
        var common = initiator.Where(responder.Contains).ToArray();
        if (initiator.Length == 0 || responder.Length == 0)
        {
            Assert.Null(NoiseMuxerNegotiation.Select(initiator, responder));
        }
        else if (common.Length == 0)
        {
            Assert.Throws<NoiseHandshakeException>(() => NoiseMuxerNegotiation.Select(initiator, responder));
        }
        else
        {
            Assert.Equal(common[0], NoiseMuxerNegotiation.Select(initiator, responder));
        }
    }

    public static TheoryData<string[], string[], string?> Agreements() => new()
    {
        { [Yamux, Mplex], [Mplex, Yamux], Yamux },
        { [Mplex, Yamux], [Yamux], Yamux },
        { [], [Yamux], null },
        { [Yamux], [], null },
        { [], [], null },
    };

    [Theory]
    [MemberData(nameof(Agreements))]
    public async Task Both_sides_agree_on_the_early_muxer(string[] initiatorMuxers, string[] responderMuxers, string? expected)
    {
        using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], initiatorMuxers, new RecordingLogger());
        using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], responderMuxers, new RecordingLogger());
        var (a, b) = DuplexPipe.CreatePair();

        var (outbound, inbound) = await NoiseSecurityTests.HandshakeAsync(dialer, listener, a, b, listener.LocalPeer);
        await using var outboundPipe = Assert.IsType<NoiseSecuredPipe>(outbound.Pipe);
        await using var inboundPipe = Assert.IsType<NoiseSecuredPipe>(inbound.Pipe);

        Assert.Equal(expected, outbound.EarlyMuxer);
        Assert.Equal(expected, inbound.EarlyMuxer);
    }

    [Fact]
    public async Task No_common_muxer_fails_the_initiator_before_message_3()
    {
        var logger = new RecordingLogger();
        using var dialer = new NoiseSecurity(keys[KeyType.Ed25519], [Yamux], logger);
        using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], [Mplex], new RecordingLogger());
        var (a, b) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(a);

        var outbound = dialer.SecureOutboundAsync(transport, listener.LocalPeer).AsTask();
        var inbound = listener.SecureInboundAsync(b).AsTask();

        var failure = await Assert.ThrowsAsync<NoiseHandshakeException>(() => outbound.WaitAsync(HangGuard));
        Assert.Contains("no stream muxer in common", failure.Message, StringComparison.Ordinal);
        Assert.Equal([NoiseConstants.DhLength], transport.SentMessageLengths());
        await Assert.ThrowsAnyAsync<Exception>(() => inbound.WaitAsync(HangGuard));
        Assert.Contains(logger.Entries, e => e.Message.Contains("no stream muxer in common", StringComparison.Ordinal));
    }

    /// <summary>An initiator that sends message 3 despite having no muxer in common is failed by the responder.</summary>
    [Fact]
    public async Task No_common_muxer_fails_the_responder_after_message_3()
    {
        var logger = new RecordingLogger();
        using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], [Yamux], logger);
        using var remoteStatic = X25519KeyPair.Generate();
        var payload = RawNoisePeer.Payload(keys[KeyType.ECDSA], remoteStatic.PublicKey, extensions: new NoiseExtensions { StreamMuxers = [Mplex] });
        var (a, b) = DuplexPipe.CreatePair();

        var inbound = listener.SecureInboundAsync(a).AsTask();
        Assert.Null(await RawNoisePeer.RunAsync(b, initiator: true, remoteStatic, payload).WaitAsync(HangGuard));

        var failure = await Assert.ThrowsAsync<NoiseHandshakeException>(() => inbound.WaitAsync(HangGuard));
        Assert.Contains($"initiator offered [{Mplex}], the responder [{Yamux}]", failure.Message, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, e => e.Message.Contains("no stream muxer in common", StringComparison.Ordinal));
    }

    /// <summary>An <c>extensions</c> field without muxers (some implementations always send one) is "no list".</summary>
    [Fact]
    public async Task An_empty_extensions_field_means_no_list()
    {
        using var listener = new NoiseSecurity(keys[KeyType.Secp256k1], [Yamux], new RecordingLogger());
        using var remoteStatic = X25519KeyPair.Generate();
        var payload = RawNoisePeer.Payload(keys[KeyType.RSA], remoteStatic.PublicKey, extensions: new NoiseExtensions());
        var (a, b) = DuplexPipe.CreatePair();

        var inbound = listener.SecureInboundAsync(a).AsTask();
        Assert.Null(await RawNoisePeer.RunAsync(b, initiator: true, remoteStatic, payload).WaitAsync(HangGuard));

        var channel = await inbound.WaitAsync(HangGuard);
        await using var pipe = Assert.IsType<NoiseSecuredPipe>(channel.Pipe);
        Assert.Null(channel.EarlyMuxer);
        Assert.Equal(keys[KeyType.RSA].GetPublicKey(), channel.RemotePublicKey);
    }
}
