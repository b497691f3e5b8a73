using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using ToolNet.Fuzz;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Noise;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>Bad handshake payloads and broken messages: each is a clean, logged failure that aborts the connection,
/// and an initiator never sends message 3 to a responder it rejected.</summary>
public class NoiseSecurityRejectionTests(IdentityKeys keys) : IClassFixture<IdentityKeys>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    public enum PayloadFault
    {
        SignatureOverAnotherStaticKey,
        IdentityKeyOfAnotherPeer,
        CorruptSignature,
        NoSignature,
        NoIdentityKey,
        InvalidIdentityKey,
        OversizedIdentityKey,
        NotProtobuf,
    }

    public static TheoryData<PayloadFault, bool> FaultsForBothRoles()
    {
        var data = new TheoryData<PayloadFault, bool>();
        foreach (var fault in Enum.GetValues<PayloadFault>())
        {
            data.Add(fault, true);
            data.Add(fault, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(FaultsForBothRoles))]
    public async Task A_bad_remote_payload_is_a_clean_logged_failure(PayloadFault fault, bool weInitiate)
    {
        var logger = new RecordingLogger();
        using var security = new NoiseSecurity(keys[KeyType.Ed25519], ["/yamux/1.0.0"], logger);
        using var remoteStatic = X25519KeyPair.Generate();
        var payload = BuildPayload(fault, keys[KeyType.Secp256k1], keys[KeyType.ECDSA], remoteStatic.PublicKey);
        var (local, remote) = DuplexPipe.CreatePair();
        var transport = new TappedDuplexPipe(local);

        var securing = weInitiate ? security.SecureOutboundAsync(transport, null).AsTask() : security.SecureInboundAsync(transport).AsTask();
        var remoteRun = RawNoisePeer.RunAsync(remote, !weInitiate, remoteStatic, payload);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => securing.WaitAsync(HangGuard));
        var expected = fault <= PayloadFault.NoSignature ? typeof(NoiseHandshakeException) : typeof(WireFormatException);
        Assert.IsAssignableFrom(expected, failure);
        Assert.Same(failure, transport.OutputError);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(failure.Message, StringComparison.Ordinal));
        if (weInitiate)
        {
            Assert.Equal([NoiseConstants.DhLength], transport.SentMessageLengths());
            Assert.NotNull(await remoteRun.WaitAsync(HangGuard));
        }
        else
        {
            Assert.Null(await remoteRun.WaitAsync(HangGuard));
        }
    }

    [Fact]
    public async Task A_signature_made_by_another_key_names_the_claimed_identity()
    {
        using var security = new NoiseSecurity(keys[KeyType.Ed25519], [], new RecordingLogger());
        using var remoteStatic = X25519KeyPair.Generate();
        var claimed = keys[KeyType.RSA].GetPublicKey();
        var (local, remote) = DuplexPipe.CreatePair();

        var securing = security.SecureOutboundAsync(local, null).AsTask();
        _ = RawNoisePeer.RunAsync(remote, initiator: false, remoteStatic, RawNoisePeer.Payload(keys[KeyType.ECDSA], remoteStatic.PublicKey, claimed));

        var failure = await Assert.ThrowsAsync<NoiseHandshakeException>(() => securing.WaitAsync(HangGuard));
        Assert.Contains($"RSA identity {PeerId.FromPublicKey(claimed)}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("does not verify", failure.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, bool, Type> BrokenMessages() => new()
    {
        { "truncated message 1", false, typeof(IOException) },
        { "truncated message 3", false, typeof(IOException) },
        { "tampered message 3", false, typeof(NoiseAuthenticationException) },
        { "message 1 shorter than a key", false, typeof(WireFormatException) },
        { "small-order ephemeral key", false, typeof(WireFormatException) },
        { "truncated message 2", true, typeof(IOException) },
        { "tampered message 2", true, typeof(NoiseAuthenticationException) },
        { "message 2 shorter than its keys", true, typeof(WireFormatException) },
    };

    /// <summary>The derived vector's messages, cut or altered, against the vector's own keys.</summary>
    [Theory]
    [MemberData(nameof(BrokenMessages))]
    public async Task A_broken_message_is_a_clean_failure(string brokenMessage, bool weInitiate, Type expected)
    {
        var vector = Libp2pHandshakeVector.Load();
        var frames = vector.Frames;
        byte[] received = brokenMessage switch
        {
            "truncated message 1" => frames[0][..20],
            "truncated message 3" => [.. frames[0], .. frames[2][..100]],
            "tampered message 3" => [.. frames[0], .. Flip(frames[2], 60)],
            "message 1 shorter than a key" => [0, 10, .. new byte[10]],
            "small-order ephemeral key" => [0, 32, .. new byte[32]],
            "truncated message 2" => frames[1][..50],
            "tampered message 2" => Flip(frames[1], 100),
            "message 2 shorter than its keys" => [0, 40, .. frames[1][2..42]],
            _ => throw new ArgumentOutOfRangeException(nameof(brokenMessage)),
        };
        var logger = new RecordingLogger();
        using var security = weInitiate ? vector.CreateInitiator(logger) : vector.CreateResponder(logger);
        var (transport, _) = await NoiseSecurityTests.ScriptedTransportAsync(received, complete: true);

        var securing = weInitiate ? security.SecureOutboundAsync(transport, vector.ResponderPeer).AsTask() : security.SecureInboundAsync(transport).AsTask();

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => securing.WaitAsync(HangGuard));
        Assert.IsType(expected, failure);
        Assert.Same(failure, transport.OutputError);
        Assert.NotEmpty(logger.Entries);
        var sent = transport.SentMessageLengths();
        Assert.True(sent.Count <= 1, $"{sent.Count} messages were sent");
    }

    /// <summary>Arbitrary bytes as the initiator's messages, after a valid message 1 or on their own (the
    /// <c>noise-handshake-responder</c> fuzz target): the responder succeeds or fails with the documented exceptions.</summary>
    [Property(MaxTest = 200)]
    public void Responder_fails_cleanly_on_arbitrary_initiator_bytes(byte[] bytes, bool afterValidMessage1)
    {
        byte[] input = afterValidMessage1 ? [.. Libp2pHandshakeVector.Load().Frames[0], .. bytes] : bytes;
        FuzzTargets.Run(FuzzTargets.All["noise-handshake-responder"], input);
    }

    /// <summary>Any one changed byte in the vector's messages 1 and 3 makes the responder reject the handshake.</summary>
    [Property(MaxTest = 200)]
    public void Responder_rejects_a_valid_handshake_with_any_byte_changed(NonNegativeInt position, byte mask)
    {
        var vector = Libp2pHandshakeVector.Load();
        byte[] input = [.. vector.Frames[0], .. vector.Frames[2]];
        input[position.Get % input.Length] ^= mask == 0 ? (byte)0x80 : mask;
        Assert.False(FuzzTargets.Run(FuzzTargets.All["noise-handshake-responder"], input));
    }

    private static byte[] Flip(byte[] frame, int index)
    {
        var copy = frame.ToArray();
        copy[index] ^= 0x01;
        return copy;
    }

    private static byte[] BuildPayload(PayloadFault fault, PrivateKey identity, PrivateKey other, ReadOnlySpan<byte> staticKey)
    {
        var identityKey = identity.GetPublicKey().ToProtobuf();
        var signature = NoiseIdentityProof.Sign(identity, staticKey);
        return fault switch
        {
            PayloadFault.SignatureOverAnotherStaticKey => RawNoisePeer.Payload(identity, RandomNumberGenerator.GetBytes(NoiseConstants.DhLength)),
            PayloadFault.IdentityKeyOfAnotherPeer => RawNoisePeer.Payload(identity, staticKey, other.GetPublicKey()),
            PayloadFault.CorruptSignature => Encode(identityKey, Flip(signature, signature.Length / 2)),
            PayloadFault.NoSignature => Encode(identityKey, []),
            PayloadFault.NoIdentityKey => Encode([], signature),
            PayloadFault.InvalidIdentityKey => Encode([0x08, 0x01, 0x12, 0x03, 0x01, 0x02, 0x03], signature),
            PayloadFault.OversizedIdentityKey => Encode(new byte[PublicKey.MaxProtobufLength + 1], signature),
            PayloadFault.NotProtobuf => [0xff, 0xff, 0xff],
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };
    }

    private static byte[] Encode(byte[] identityKey, byte[] signature) =>
        new NoiseHandshakePayload { IdentityKey = identityKey, IdentitySignature = signature }.ToBytes();
}
