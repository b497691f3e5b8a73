using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Records;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Identify;

public sealed class IdentifyServiceTests : TwoHostsTest
{
    private static readonly Multiaddr AddressX = Multiaddr.Parse("/ip4/10.0.0.1/tcp/1");
    private static readonly Multiaddr AddressY = Multiaddr.Parse("/ip4/10.0.0.2/tcp/2");
    // Pushes only when a test asks: the automatic ones are tested in IdentifyPushTests.
    private static readonly IdentifyOptions Options = new() { IdentifyOnConnect = false, PushOnChange = false, Timeout = TimeSpan.FromSeconds(20), AddressTtl = TimeSpan.FromMinutes(7) };

    private readonly IdentifyService _serviceA;
    private readonly IdentifyService _serviceB;

    public IdentifyServiceTests()
    {
        _serviceA = Own(new IdentifyService(A, A.Key, Options, Log));
        _serviceB = Own(new IdentifyService(B, B.Key, Options, Log));
    }

    [Fact]
    public async Task Identify_returns_every_field_and_records_it_in_the_peer_store()
    {
        var result = await _serviceA.IdentifyAsync(AToB);

        Assert.Equal(B.PeerId, result.Peer);
        Assert.Equal(B.Key.GetPublicKey(), result.PublicKey);
        Assert.Equal("ipfs/0.1.0", result.ProtocolVersion);
        Assert.StartsWith("toolnet/", result.AgentVersion, StringComparison.Ordinal);
        Assert.Equal(B.ListenAddresses, result.ListenAddresses);
        Assert.Equal(BToA.RemoteAddress, result.ObservedAddress);
        Assert.Equal([IdentifyService.ProtocolId, IdentifyService.PushProtocolId], result.Protocols);
        var record = Assert.IsType<PeerRecord>(result.SignedPeerRecord);
        Assert.Equal(B.PeerId, record.PeerId);
        Assert.Equal(B.ListenAddresses, record.Addresses);
        Assert.Equal(record, PeerRecord.ConsumeEnvelope(result.SignedPeerRecordEnvelope!.ToProtobuf()).Record);

        var store = A.FakePeerStore;
        Assert.Equal(B.ListenAddresses, store.GetAddresses(B.PeerId));
        Assert.All(B.ListenAddresses, address => Assert.Equal(Options.AddressTtl, store.GetAddressTtl(B.PeerId, address)));
        Assert.Equal(B.Key.GetPublicKey(), store.GetPublicKey(B.PeerId));
        Assert.Equal(result.Protocols, store.GetProtocols(B.PeerId));
        Assert.Equal(result.AgentVersion, store.GetMetadata(B.PeerId, IdentifyService.AgentVersionKey));
        Assert.Equal("ipfs/0.1.0", store.GetMetadata(B.PeerId, IdentifyService.ProtocolVersionKey));
        Assert.Equal(result.SignedPeerRecordEnvelope.ToProtobuf(), store.GetPeerRecordEnvelope(B.PeerId)!.Value.ToArray());
    }

    [Fact]
    public async Task Identify_works_in_both_directions_at_once()
    {
        var results = await Task.WhenAll(_serviceA.IdentifyAsync(AToB).AsTask(), _serviceB.IdentifyAsync(BToA).AsTask());
        Assert.Equal(B.PeerId, results[0].Peer);
        Assert.Equal(A.PeerId, results[1].Peer);
        Assert.Equal(A.ListenAddresses, B.FakePeerStore.GetAddresses(A.PeerId));
        Assert.Equal(AToB.RemoteAddress, results[1].ObservedAddress);
        Assert.Equal(A.PeerId, results[1].SignedPeerRecord!.PeerId);
    }

    // Regression (found by the js-libp2p interop suite): js accepts one inbound identify stream per connection and
    // resets any other, so an identify asked for while the one every new connection gets was under way failed.
    [Fact]
    public async Task Concurrent_identifies_of_one_connection_share_one_stream()
    {
        var release = new TaskCompletionSource();
        AnswerIdentifyOnceReleased(release.Task);
        var identified = 0;
        _serviceA.PeerIdentified += (_, _) => Interlocked.Increment(ref identified);

        var first = _serviceA.IdentifyAsync(AToB).AsTask();
        var second = _serviceA.IdentifyAsync(AToB).AsTask();
        release.SetResult();
        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Same(results[0], results[1]);
        Assert.Equal(B.PeerId, results[0].Peer);
        Assert.Equal(1, identified);
        Assert.Single(OpenedIdentifyStreams());

        // Once it has ended, the next identify is a new exchange.
        await _serviceA.IdentifyAsync(AToB);
        Assert.Equal(2, OpenedIdentifyStreams().Length);
    }

    [Fact]
    public async Task A_caller_that_stops_waiting_leaves_a_shared_identify_running_for_the_others()
    {
        var release = new TaskCompletionSource();
        AnswerIdentifyOnceReleased(release.Task);
        using var impatient = new CancellationTokenSource();

        var abandoned = _serviceA.IdentifyAsync(AToB, impatient.Token).AsTask();
        var patient = _serviceA.IdentifyAsync(AToB).AsTask();
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        release.SetResult();

        Assert.Equal(B.PeerId, (await patient.WaitAsync(TimeSpan.FromSeconds(30))).Peer);
        Assert.Single(OpenedIdentifyStreams());
    }

    [Fact]
    public async Task A_push_updates_only_the_fields_it_carries()
    {
        await _serviceA.IdentifyAsync(AToB);
        var agent = A.FakePeerStore.GetMetadata(B.PeerId, IdentifyService.AgentVersionKey);

        await SendPushAsync(new IdentifyMessage { Protocols = ["/new/1.0.0"] });

        var store = A.FakePeerStore;
        Assert.Equal(["/new/1.0.0"], store.GetProtocols(B.PeerId));
        Assert.Equal(agent, store.GetMetadata(B.PeerId, IdentifyService.AgentVersionKey));
        Assert.Equal(B.ListenAddresses, store.GetAddresses(B.PeerId));

        await SendPushAsync(new IdentifyMessage { AgentVersion = "other/2" });
        Assert.Equal(["/new/1.0.0"], store.GetProtocols(B.PeerId));
        Assert.Equal("other/2", store.GetMetadata(B.PeerId, IdentifyService.AgentVersionKey));
    }

    [Fact]
    public async Task An_answer_built_before_a_push_does_not_put_the_older_protocols_back()
    {
        // B builds its answer with its old protocols, then pushes new ones; the answer arrives after the push.
        var built = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = _serviceB.CreateMessage(BToA);
        var old = new IdentifyMessage { PublicKey = current.PublicKey, AgentVersion = "old/1", Protocols = ["/old/1.0.0"] };
        AnswerIdentify(async (stream, ct) =>
        {
            built.SetResult();
            await release.Task.WaitAsync(ct);
            await IdentifySession.SendAsync(stream.Output, old, ct);
            await stream.CloseWriteAsync(ct);
        });
        var identify = _serviceA.IdentifyAsync(AToB).AsTask();
        await built.Task.WaitAsync(TimeSpan.FromSeconds(30));

        await SendPushAsync(new IdentifyMessage { Protocols = ["/new/1.0.0"] });
        Assert.Equal(["/new/1.0.0"], A.FakePeerStore.GetProtocols(B.PeerId));
        release.SetResult();

        // The answer is returned as it was, and the rest of it recorded, but the pushed protocols stand.
        var answer = await identify.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["/old/1.0.0"], answer.Protocols);
        Assert.Equal(["/new/1.0.0"], A.FakePeerStore.GetProtocols(B.PeerId));
        Assert.Equal("old/1", A.FakePeerStore.GetMetadata(B.PeerId, IdentifyService.AgentVersionKey));

        // A later identify, not overtaken, records what it says.
        AnswerIdentifyWith(old);
        await _serviceA.IdentifyAsync(AToB);
        Assert.Equal(["/old/1.0.0"], A.FakePeerStore.GetProtocols(B.PeerId));
    }

    [Fact]
    public async Task Changes_are_pushed_to_connected_peers()
    {
        await _serviceA.IdentifyAsync(AToB);
        Assert.False(await _serviceB.PushIfChangedAsync());

        B.SetStreamHandler("/echo/1.0.0", (_, _) => Task.CompletedTask);
        B.ListenAddresses = [AddressY];
        var identified = NextIdentification(_serviceA);
        Assert.True(await _serviceB.PushIfChangedAsync());
        var pushed = await identified;
        await A.WhenHandlersDoneAsync();

        Assert.Contains("/echo/1.0.0", A.FakePeerStore.GetProtocols(B.PeerId));
        Assert.Equal([AddressY], A.FakePeerStore.GetAddresses(B.PeerId));
        Assert.Equal([AddressY], pushed.SignedPeerRecord!.Addresses);
        Assert.False(await _serviceB.PushIfChangedAsync());
        Assert.Equal(1, await _serviceB.PushAsync());
    }

    [Fact]
    public async Task Our_record_is_signed_again_only_when_the_addresses_change_with_a_higher_seq()
    {
        var first = _serviceB.CreateMessage(BToA);
        Assert.Same(first.SignedPeerRecord, _serviceB.CreateMessage(BToA).SignedPeerRecord);
        B.ListenAddresses = [AddressX];
        var second = _serviceB.CreateMessage(BToA);
        var before = PeerRecord.ConsumeEnvelope(first.SignedPeerRecord!).Record;
        var after = PeerRecord.ConsumeEnvelope(second.SignedPeerRecord!).Record;
        Assert.True(after.Seq > before.Seq);
        Assert.Equal([AddressX], after.Addresses);
    }

    [Fact]
    public async Task A_message_with_another_peers_key_is_ignored_andLogged()
    {
        AnswerIdentifyWith(new IdentifyMessage
        {
            PublicKey = PrivateKey.Generate(KeyType.Ed25519).GetPublicKey().ToProtobuf(),
            Protocols = ["/evil/1.0.0"],
            ListenAddresses = [AddressX.ToBytes()],
        });

        await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(AToB));
        Assert.Empty(A.FakePeerStore.GetProtocols(B.PeerId));
        Assert.Empty(A.FakePeerStore.GetAddresses(B.PeerId));
        Assert.True(Log.Contains(LogLevel.Warning, "Ignoring identify message"));
    }

    [Fact]
    public async Task A_verified_signed_record_takes_precedence_over_listen_addresses()
    {
        AnswerIdentifyWith(new IdentifyMessage
        {
            PublicKey = B.Key.GetPublicKey().ToProtobuf(),
            ListenAddresses = [AddressX.ToBytes()],
            SignedPeerRecord = new PeerRecord(B.PeerId, 42, [AddressY]).Seal(B.Key).ToProtobuf(),
        });

        var result = await _serviceA.IdentifyAsync(AToB);
        Assert.Equal([AddressX], result.ListenAddresses);
        Assert.Equal([AddressY], result.Addresses);
        Assert.Equal([AddressY], A.FakePeerStore.GetAddresses(B.PeerId));
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

        var result = await _serviceA.IdentifyAsync(AToB);
        Assert.Null(result.SignedPeerRecord);
        Assert.Equal([AddressX], A.FakePeerStore.GetAddresses(B.PeerId));
        Assert.True(Log.Contains(LogLevel.Warning, "signed peer record of another peer"));
    }

    [Fact]
    public async Task A_signed_record_that_does_not_verify_is_dropped()
    {
        var envelope = new PeerRecord(B.PeerId, 42, [AddressY]).Seal(B.Key).ToProtobuf();
        envelope[^1] ^= 0x80;
        AnswerIdentifyWith(new IdentifyMessage { ListenAddresses = [AddressX.ToBytes()], SignedPeerRecord = envelope });

        var result = await _serviceA.IdentifyAsync(AToB);
        Assert.Null(result.SignedPeerRecord);
        Assert.Equal([AddressX], A.FakePeerStore.GetAddresses(B.PeerId));
        Assert.True(Log.Contains(LogLevel.Warning, "does not verify"));
    }

    [Fact]
    public async Task An_older_signed_record_does_not_replace_a_newer_one()
    {
        var newer = new PeerRecord(B.PeerId, 100, [AddressX]).Seal(B.Key).ToProtobuf();
        Assert.True(A.PeerStore.ConsumePeerRecord(B.PeerId, 100, [AddressX], newer, TimeSpan.FromHours(1)));
        AnswerIdentifyWith(new IdentifyMessage { SignedPeerRecord = new PeerRecord(B.PeerId, 99, [AddressY]).Seal(B.Key).ToProtobuf() });

        await _serviceA.IdentifyAsync(AToB);
        Assert.Equal([AddressX], A.FakePeerStore.GetAddresses(B.PeerId));
        Assert.Equal(newer, A.FakePeerStore.GetPeerRecordEnvelope(B.PeerId)!.Value.ToArray());
    }

    [Fact]
    public async Task Undecodable_addresses_are_dropped_and_the_rest_kept()
    {
        AnswerIdentifyWith(new IdentifyMessage { ListenAddresses = [[0x3f, 0x00], AddressX.ToBytes()], ObservedAddress = [0xff] });
        var result = await _serviceA.IdentifyAsync(AToB);
        Assert.Equal([AddressX], result.ListenAddresses);
        Assert.Null(result.ObservedAddress);
    }

    [Fact]
    public async Task A_malformed_answer_fails_with_the_format_error_inside()
    {
        AnswerIdentifyWithBytes([0x05, 0x1a, 0x02, 0xc3, 0x28, 0x00]);
        var exception = await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(AToB));
        Assert.IsAssignableFrom<WireFormatException>(exception.InnerException);
        Assert.True(Log.Contains(LogLevel.Warning, "Malformed identify message"));
    }

    [Fact]
    public async Task An_oversized_answer_is_refused_from_its_length_prefix()
    {
        AnswerIdentifyWithBytes(Varint.Encode(IdentifyCodec.MaxMessageLength + 1), keepOpen: true);
        var exception = await Assert.ThrowsAsync<IdentifyException>(async () => await _serviceA.IdentifyAsync(AToB));
        Assert.Contains("exceeds", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silent_peer_times_out()
    {
        await using var impatient = new IdentifyService(A, A.Key, Options with { Timeout = TimeSpan.FromMilliseconds(200) });
        var release = new TaskCompletionSource();
        B.SetStreamHandler(IdentifyService.ProtocolId, (_, _) => release.Task);
        await Assert.ThrowsAsync<TimeoutException>(async () => await impatient.IdentifyAsync(AToB));
        release.SetResult();
    }

    [Fact]
    public async Task A_remote_reset_fails_the_identify_cleanly()
    {
        B.SetStreamHandler(IdentifyService.ProtocolId, async (stream, ct) =>
        {
            await stream.Output.WriteAsync(new byte[] { 0x20, 0x0a }, ct);
            stream.Reset();
        });
        await Assert.ThrowsAsync<StreamResetException>(async () => await _serviceA.IdentifyAsync(AToB));
    }

    [Fact]
    public async Task New_connections_are_identified_when_enabled()
    {
        await using var c = new FakeHost(null, "/ip4/127.0.0.1/tcp/4002");
        await using var serviceC = new IdentifyService(c, c.Key, Options, Log);
        await using var eager = new IdentifyService(A, A.Key, Options with { IdentifyOnConnect = true }, Log);
        var identified = NextIdentification(eager);

        FakeHost.Connect(A, c);

        var result = await identified;
        Assert.Equal(c.PeerId, result.Peer);
        Assert.Equal(c.ListenAddresses, A.FakePeerStore.GetAddresses(c.PeerId));
    }

    [Fact]
    public async Task The_service_registers_both_protocols_for_limited_connections_and_removes_them_on_dispose()
    {
        Assert.True(B.HandlerOptions(IdentifyService.ProtocolId)!.RunOnLimitedConnection);
        Assert.True(B.HandlerOptions(IdentifyService.PushProtocolId)!.RunOnLimitedConnection);
        await _serviceB.DisposeAsync();
        Assert.Empty(B.Protocols);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _serviceB.IdentifyAsync(BToA));
    }

    [Fact]
    public void The_identity_key_must_be_the_hosts()
    {
        Assert.Throws<ArgumentException>(() => new IdentifyService(A, B.Key, Options));
    }

    private static Task<IdentifyResult> NextIdentification(IdentifyService service)
    {
        var next = new TaskCompletionSource<IdentifyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        service.PeerIdentified += (_, result) => next.TrySetResult(result);
        return next.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task SendPushAsync(IdentifyMessage message)
    {
        await using var stream = await BToA.NewStreamAsync([IdentifyService.PushProtocolId]);
        await IdentifySession.SendAsync(stream.Output, message);
        await stream.CloseWriteAsync();
        await IdentifySession.WaitForRemoteCloseAsync(stream.Input);
        await A.WhenHandlersDoneAsync();
    }

    /// <summary>B answers identify as usual, but only once <paramref name="release"/> completes.</summary>
    private void AnswerIdentifyOnceReleased(Task release) =>
        AnswerIdentify(async (stream, ct) =>
        {
            await release;
            await IdentifySession.SendAsync(stream.Output, _serviceB.CreateMessage(stream.Connection), ct);
            await stream.CloseWriteAsync(ct);
        });

    private string[] OpenedIdentifyStreams()
    {
        lock (AToB.OpenedProtocols)
        {
            return [.. AToB.OpenedProtocols.Where(p => p == IdentifyService.ProtocolId)];
        }
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

    /// <summary>Replaces B's identify handler. The reset A answers a bad message with is expected, not a failure; so is
    /// the cancellation of a handler still finishing when the test ends (A may give up before B's handler returns).</summary>
    private void AnswerIdentify(StreamHandler handler) =>
        B.SetStreamHandler(IdentifyService.ProtocolId, async (stream, ct) =>
        {
            try
            {
                await handler(stream, ct);
            }
            catch (StreamResetException)
            {
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        });
}
