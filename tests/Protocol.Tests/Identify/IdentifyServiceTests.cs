using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Identify;

[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes the fields through IAsyncLifetime")]
public sealed class IdentifyServiceTests : IAsyncLifetime
{
    private static readonly Multiaddr AddressX = Multiaddr.Parse("/ip4/10.0.0.1/tcp/1");
    private static readonly Multiaddr AddressY = Multiaddr.Parse("/ip4/10.0.0.2/tcp/2");
    private static readonly IdentifyOptions Options = new() { IdentifyOnConnect = false, Timeout = TimeSpan.FromSeconds(20), AddressTtl = TimeSpan.FromMinutes(7) };

    private readonly FakeHost _a = new(null, "/ip4/127.0.0.1/tcp/50001");
    private readonly FakeHost _b = new(null, "/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/4001");
    private readonly CollectingLogger _log = new();
    private readonly IdentifyService _serviceA;
    private readonly IdentifyService _serviceB;
    private readonly FakeConnection _aToB;
    private readonly FakeConnection _bToA;

    public IdentifyServiceTests()
    {
        _serviceA = new IdentifyService(_a, _a.Key, Options, _log);
        _serviceB = new IdentifyService(_b, _b.Key, Options, _log);
        (_aToB, _bToA) = FakeHost.Connect(_a, _b);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _serviceA.DisposeAsync();
        await _serviceB.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        Assert.Empty(_a.HandlerFailures);
        Assert.Empty(_b.HandlerFailures);
    }

    [Fact]
    public async Task Identify_returns_every_field_and_records_it_in_the_peer_store()
    {
        var result = await _serviceA.IdentifyAsync(_aToB);

        Assert.Equal(_b.PeerId, result.Peer);
        Assert.Equal(_b.Key.GetPublicKey(), result.PublicKey);
        Assert.Equal("ipfs/0.1.0", result.ProtocolVersion);
        Assert.StartsWith("toolnet/", result.AgentVersion, StringComparison.Ordinal);
        Assert.Equal(_b.ListenAddresses, result.ListenAddresses);
        Assert.Equal(_bToA.RemoteAddress, result.ObservedAddress);
        Assert.Equal([IdentifyService.ProtocolId, IdentifyService.PushProtocolId], result.Protocols);
        var record = Assert.IsType<PeerRecord>(result.SignedPeerRecord);
        Assert.Equal(_b.PeerId, record.PeerId);
        Assert.Equal(_b.ListenAddresses, record.Addresses);
        Assert.Equal(record, PeerRecord.ConsumeEnvelope(result.SignedPeerRecordEnvelope!.ToProtobuf()).Record);

        var store = _a.FakePeerStore;
        Assert.Equal(_b.ListenAddresses, store.GetAddresses(_b.PeerId));
        Assert.All(_b.ListenAddresses, address => Assert.Equal(Options.AddressTtl, store.GetAddressTtl(_b.PeerId, address)));
        Assert.Equal(_b.Key.GetPublicKey(), store.GetPublicKey(_b.PeerId));
        Assert.Equal(result.Protocols, store.GetProtocols(_b.PeerId));
        Assert.Equal(result.AgentVersion, store.GetMetadata(_b.PeerId, IdentifyService.AgentVersionKey));
        Assert.Equal("ipfs/0.1.0", store.GetMetadata(_b.PeerId, IdentifyService.ProtocolVersionKey));
        Assert.Equal(record.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), store.GetMetadata(_b.PeerId, IdentifyService.PeerRecordSeqKey));
    }

    [Fact]
    public async Task Identify_works_in_both_directions_at_once()
    {
        var results = await Task.WhenAll(_serviceA.IdentifyAsync(_aToB).AsTask(), _serviceB.IdentifyAsync(_bToA).AsTask());
        Assert.Equal(_b.PeerId, results[0].Peer);
        Assert.Equal(_a.PeerId, results[1].Peer);
        Assert.Equal(_a.ListenAddresses, _b.FakePeerStore.GetAddresses(_a.PeerId));
        Assert.Equal(_aToB.RemoteAddress, results[1].ObservedAddress);
        Assert.Equal(_a.PeerId, results[1].SignedPeerRecord!.PeerId);
    }

    [Fact]
    public async Task A_push_updates_only_the_fields_it_carries()
    {
        await _serviceA.IdentifyAsync(_aToB);
        var agent = _a.FakePeerStore.GetMetadata(_b.PeerId, IdentifyService.AgentVersionKey);

        await SendPushAsync(new IdentifyMessage { Protocols = ["/new/1.0.0"] });

        var store = _a.FakePeerStore;
        Assert.Equal(["/new/1.0.0"], store.GetProtocols(_b.PeerId));
        Assert.Equal(agent, store.GetMetadata(_b.PeerId, IdentifyService.AgentVersionKey));
        Assert.Equal(_b.ListenAddresses, store.GetAddresses(_b.PeerId));

        await SendPushAsync(new IdentifyMessage { AgentVersion = "other/2" });
        Assert.Equal(["/new/1.0.0"], store.GetProtocols(_b.PeerId));
        Assert.Equal("other/2", store.GetMetadata(_b.PeerId, IdentifyService.AgentVersionKey));
    }

    [Fact]
    public async Task Changes_are_pushed_to_connected_peers()
    {
        await _serviceA.IdentifyAsync(_aToB);
        Assert.False(await _serviceB.PushIfChangedAsync());

        _b.SetStreamHandler("/echo/1.0.0", (_, _) => Task.CompletedTask);
        _b.ListenAddresses = [AddressY];
        var identified = NextIdentification(_serviceA);
        Assert.True(await _serviceB.PushIfChangedAsync());
        var pushed = await identified;
        await _a.WhenHandlersDoneAsync();

        Assert.Contains("/echo/1.0.0", _a.FakePeerStore.GetProtocols(_b.PeerId));
        Assert.Equal([AddressY], _a.FakePeerStore.GetAddresses(_b.PeerId));
        Assert.Equal([AddressY], pushed.SignedPeerRecord!.Addresses);
        Assert.False(await _serviceB.PushIfChangedAsync());
        Assert.Equal(1, await _serviceB.PushAsync());
    }

    [Fact]
    public async Task Our_record_is_signed_again_only_when_the_addresses_change_with_a_higher_seq()
    {
        var first = _serviceB.CreateMessage(_bToA);
        Assert.Same(first.SignedPeerRecord, _serviceB.CreateMessage(_bToA).SignedPeerRecord);
        _b.ListenAddresses = [AddressX];
        var second = _serviceB.CreateMessage(_bToA);
        var before = PeerRecord.ConsumeEnvelope(first.SignedPeerRecord!).Record;
        var after = PeerRecord.ConsumeEnvelope(second.SignedPeerRecord!).Record;
        Assert.True(after.Seq > before.Seq);
        Assert.Equal([AddressX], after.Addresses);
    }

    [Fact]
    public async Task A_message_with_another_peers_key_is_ignored_and_logged()
    {
        AnswerIdentifyWith(new IdentifyMessage
        {
            PublicKey = PrivateKey.Generate(KeyType.Ed25519).GetPublicKey().ToProtobuf(),
            Protocols = ["/evil/1.0.0"],
            ListenAddresses = [AddressX.ToBytes()],
        });

        await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(_aToB));
        Assert.Empty(_a.FakePeerStore.GetProtocols(_b.PeerId));
        Assert.Empty(_a.FakePeerStore.GetAddresses(_b.PeerId));
        Assert.True(_log.Contains(LogLevel.Warning, "Ignoring identify message"));
    }

    [Fact]
    public async Task A_verified_signed_record_takes_precedence_over_listen_addresses()
    {
        AnswerIdentifyWith(new IdentifyMessage
        {
            PublicKey = _b.Key.GetPublicKey().ToProtobuf(),
            ListenAddresses = [AddressX.ToBytes()],
            SignedPeerRecord = new PeerRecord(_b.PeerId, 42, [AddressY]).Seal(_b.Key).ToProtobuf(),
        });

        var result = await _serviceA.IdentifyAsync(_aToB);
        Assert.Equal([AddressX], result.ListenAddresses);
        Assert.Equal([AddressY], result.Addresses);
        Assert.Equal([AddressY], _a.FakePeerStore.GetAddresses(_b.PeerId));
    }

    [Fact]
    public async Task A_signed_record_of_another_peer_is_dropped_and_listen_addresses_stand()
    {
        var other = new FakeHost();
        AnswerIdentifyWith(new IdentifyMessage
        {
            ListenAddresses = [AddressX.ToBytes()],
            SignedPeerRecord = new PeerRecord(other.PeerId, 42, [AddressY]).Seal(other.Key).ToProtobuf(),
        });

        var result = await _serviceA.IdentifyAsync(_aToB);
        Assert.Null(result.SignedPeerRecord);
        Assert.Equal([AddressX], _a.FakePeerStore.GetAddresses(_b.PeerId));
        Assert.True(_log.Contains(LogLevel.Warning, "signed peer record of another peer"));
    }

    [Fact]
    public async Task A_signed_record_that_does_not_verify_is_dropped()
    {
        var envelope = new PeerRecord(_b.PeerId, 42, [AddressY]).Seal(_b.Key).ToProtobuf();
        envelope[^1] ^= 0x80;
        AnswerIdentifyWith(new IdentifyMessage { ListenAddresses = [AddressX.ToBytes()], SignedPeerRecord = envelope });

        var result = await _serviceA.IdentifyAsync(_aToB);
        Assert.Null(result.SignedPeerRecord);
        Assert.Equal([AddressX], _a.FakePeerStore.GetAddresses(_b.PeerId));
        Assert.True(_log.Contains(LogLevel.Warning, "does not verify"));
    }

    [Fact]
    public async Task An_older_signed_record_does_not_replace_a_newer_one()
    {
        _a.PeerStore.SetMetadata(_b.PeerId, IdentifyService.PeerRecordSeqKey, "100");
        _a.PeerStore.SetAddresses(_b.PeerId, [AddressX], TimeSpan.FromHours(1));
        AnswerIdentifyWith(new IdentifyMessage { SignedPeerRecord = new PeerRecord(_b.PeerId, 99, [AddressY]).Seal(_b.Key).ToProtobuf() });

        await _serviceA.IdentifyAsync(_aToB);
        Assert.Equal([AddressX], _a.FakePeerStore.GetAddresses(_b.PeerId));
        Assert.Equal("100", _a.FakePeerStore.GetMetadata(_b.PeerId, IdentifyService.PeerRecordSeqKey));
    }

    [Fact]
    public async Task Undecodable_addresses_are_dropped_and_the_rest_kept()
    {
        AnswerIdentifyWith(new IdentifyMessage { ListenAddresses = [[0x3f, 0x00], AddressX.ToBytes()], ObservedAddress = [0xff] });
        var result = await _serviceA.IdentifyAsync(_aToB);
        Assert.Equal([AddressX], result.ListenAddresses);
        Assert.Null(result.ObservedAddress);
    }

    [Fact]
    public async Task A_malformed_answer_fails_with_the_format_error_inside()
    {
        AnswerIdentifyWithBytes([0x05, 0x1a, 0x02, 0xc3, 0x28, 0x00]);
        var exception = await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(_aToB));
        Assert.IsAssignableFrom<WireFormatException>(exception.InnerException);
        Assert.True(_log.Contains(LogLevel.Warning, "Malformed identify message"));
    }

    [Fact]
    public async Task An_oversized_answer_is_refused_from_its_length_prefix()
    {
        AnswerIdentifyWithBytes(Varint.Encode(IdentifyCodec.MaxMessageLength + 1), keepOpen: true);
        var exception = await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(_aToB));
        Assert.Contains("exceeds", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_peer_times_out()
    {
        await using var impatient = new IdentifyService(_a, _a.Key, Options with { Timeout = TimeSpan.FromMilliseconds(200) });
        var release = new TaskCompletionSource();
        _b.SetStreamHandler(IdentifyService.ProtocolId, (_, _) => release.Task);
        await Assert.ThrowsAsync<TimeoutException>(async () => await impatient.IdentifyAsync(_aToB));
        release.SetResult();
    }

    [Fact]
    public async Task A_remote_reset_fails_the_identify_cleanly()
    {
        _b.SetStreamHandler(IdentifyService.ProtocolId, async (stream, ct) =>
        {
            await stream.Output.WriteAsync(new byte[] { 0x20, 0x0a }, ct);
            stream.Reset();
        });
        await Assert.ThrowsAsync<StreamResetException>(async () => await _serviceA.IdentifyAsync(_aToB));
    }

    [Fact]
    public async Task New_connections_are_identified_when_enabled()
    {
        await using var c = new FakeHost(null, "/ip4/127.0.0.1/tcp/4002");
        await using var serviceC = new IdentifyService(c, c.Key, Options, _log);
        await using var eager = new IdentifyService(_a, _a.Key, Options with { IdentifyOnConnect = true }, _log);
        var identified = NextIdentification(eager);

        FakeHost.Connect(_a, c);

        var result = await identified;
        Assert.Equal(c.PeerId, result.Peer);
        Assert.Equal(c.ListenAddresses, _a.FakePeerStore.GetAddresses(c.PeerId));
    }

    [Fact]
    public async Task The_service_registers_both_protocols_for_limited_connections_and_removes_them_on_dispose()
    {
        Assert.True(_b.HandlerOptions(IdentifyService.ProtocolId)!.RunOnLimitedConnection);
        Assert.True(_b.HandlerOptions(IdentifyService.PushProtocolId)!.RunOnLimitedConnection);
        await _serviceB.DisposeAsync();
        Assert.Empty(_b.Protocols);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _serviceB.IdentifyAsync(_bToA));
    }

    [Fact]
    public void The_identity_key_must_be_the_hosts()
    {
        Assert.Throws<ArgumentException>(() => new IdentifyService(_a, _b.Key, Options));
    }

    private static Task<IdentifyResult> NextIdentification(IdentifyService service)
    {
        var next = new TaskCompletionSource<IdentifyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.PeerIdentified += (_, result) => next.TrySetResult(result);
        return next.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task SendPushAsync(IdentifyMessage message)
    {
        await using var stream = await _bToA.NewStreamAsync([IdentifyService.PushProtocolId]);
        await IdentifySession.SendAsync(stream.Output, message);
        await stream.CloseWriteAsync();
        await IdentifySession.WaitForRemoteCloseAsync(stream.Input);
        await _a.WhenHandlersDoneAsync();
    }

    private void AnswerIdentifyWith(IdentifyMessage message) =>
        AnswerIdentify(async (stream, ct) =>
        {
            await IdentifySession.SendAsync(stream.Output, message, ct);
            await stream.CloseWriteAsync(ct);
        });

    private void AnswerIdentifyWithBytes(byte[] bytes, bool keepOpen = false) =>
        AnswerIdentify(async (stream, ct) =>
        {
            await stream.Output.WriteAsync(bytes, ct);
            if (keepOpen)
            {
                await IdentifySession.WaitForRemoteCloseAsync(stream.Input, ct);
            }

            await stream.CloseWriteAsync(ct);
        });

    /// <summary>Replaces B's identify handler; the reset A answers a bad message with is expected, not a failure.</summary>
    private void AnswerIdentify(StreamHandler handler) =>
        _b.SetStreamHandler(IdentifyService.ProtocolId, async (stream, ct) =>
        {
            try
            {
                await handler(stream, ct);
            }
            catch (StreamResetException)
            {
            }
        });
}
