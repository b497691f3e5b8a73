using System.Buffers;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Tests.Fakes;

namespace ToolNet.Protocol.Tests.Identify;

public class IdentifySessionTests
{
    private static readonly IdentifyMessage Sample = new()
    {
        ProtocolVersion = "ipfs/0.1.0",
        AgentVersion = "test/1",
        ListenAddresses = [Convert.FromHexString("047f000001060fa1")],
        Protocols = ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"],
    };

    [Fact]
    public async Task A_sent_message_is_received_after_the_half_close()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        var receiving = IdentifySession.ReceiveAsync(receiver.Input).AsTask();
        await IdentifySession.SendAsync(sender.Output, Sample);
        Assert.False(receiving.IsCompleted);
        await sender.CloseWriteAsync();
        Assert.True((await receiving).HasSameFields(Sample));
    }

    [Fact]
    public async Task Several_messages_on_one_stream_are_merged()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        await IdentifySession.SendAsync(sender.Output, new IdentifyMessage { AgentVersion = "a", Protocols = ["/x"] });
        await IdentifySession.SendAsync(sender.Output, new IdentifyMessage { SignedPeerRecord = [1, 2], Protocols = ["/y"] });
        await sender.CloseWriteAsync();
        var merged = await IdentifySession.ReceiveAsync(receiver.Input);
        Assert.Equal("a", merged.AgentVersion);
        Assert.Equal(["/x", "/y"], merged.Protocols);
        Assert.Equal([1, 2], merged.SignedPeerRecord!);
    }

    [Fact]
    public async Task A_message_cut_off_by_end_of_stream_is_malformed()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        var writer = new ArrayBufferWriter<byte>();
        IdentifyCodec.WriteDelimited(Sample, writer);
        await sender.Output.WriteAsync(writer.WrittenMemory[..^1]);
        await sender.CloseWriteAsync();
        await Assert.ThrowsAnyAsync<WireFormatException>(async () => await IdentifySession.ReceiveAsync(receiver.Input));
    }

    [Fact]
    public async Task End_of_stream_without_a_message_is_malformed()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        await sender.CloseWriteAsync();
        await Assert.ThrowsAnyAsync<WireFormatException>(async () => await IdentifySession.ReceiveAsync(receiver.Input));
    }

    [Fact]
    public async Task An_oversized_prefix_is_refused_without_waiting_for_its_body()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        await sender.Output.WriteAsync(Varint.Encode(IdentifyCodec.MaxMessageLength + 1));

        // The stream stays open and the body never comes: only the prefix can have caused the rejection.
        await Assert.ThrowsAnyAsync<WireFormatException>(async () => await IdentifySession.ReceiveAsync(receiver.Input));
    }

    [Fact]
    public async Task Too_many_messages_on_one_stream_are_refused()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        var receiving = IdentifySession.ReceiveAsync(receiver.Input).AsTask();
        for (var i = 0; i <= IdentifySession.MaxMessagesPerStream; i++)
        {
            await IdentifySession.SendAsync(sender.Output, new IdentifyMessage());
        }

        await Assert.ThrowsAnyAsync<WireFormatException>(() => receiving);
    }

    [Fact]
    public async Task A_reset_while_reading_surfaces_as_a_stream_reset()
    {
        var (sender, receiver) = InMemoryStream.CreatePair();
        var receiving = IdentifySession.ReceiveAsync(receiver.Input).AsTask();
        await sender.Output.WriteAsync(new byte[] { 0x10 });
        sender.Reset();
        await Assert.ThrowsAsync<StreamResetException>(() => receiving);
    }

    [Fact]
    public async Task Waiting_for_the_remote_close_discards_what_it_sends()
    {
        var (local, remote) = InMemoryStream.CreatePair();
        var waiting = IdentifySession.WaitForRemoteCloseAsync(local.Input).AsTask();
        await remote.Output.WriteAsync(new byte[100]);
        Assert.False(waiting.IsCompleted);
        await remote.CloseWriteAsync();
        await waiting;
    }
}
