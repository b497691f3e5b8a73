using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Memory;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Peers;
using ToolNet.Protocol.Plaintext;
using ToolNet.Protocol.Yamux;
using ToolNet.Protocol.Addressing;
using ToolNet.Fuzz;

using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.Core;

public class LengthPrefixedMessagesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_message_is_read_only_once_complete_across_segments_and_the_rest_is_left()
    {
        var framed = Frame("hello").Concat(Frame("again")).ToArray();
        for (var cut = 0; cut < framed.Length; cut++)
        {
            var partial = SegmentedSequence.Create(framed.AsMemory(0, cut), 2);
            var before = partial.Length;
            var complete = LengthPrefixedMessages.TryRead(ref partial, TextCodec.Instance, out var message);
            Assert.Equal(cut >= 6, complete);
            Assert.Equal(complete ? "hello" : null, message);
            Assert.Equal(complete ? before - 6 : before, partial.Length);
        }
    }

    [Fact]
    public void An_oversized_prefix_is_refused_before_its_body_arrives()
    {
        var prefixOnly = new ReadOnlySequence<byte>(Varint.Encode((ulong)TextCodec.Instance.MaxMessageLength + 1));

        var refused = Assert.Throws<WireFormatException>(() => LengthPrefixedMessages.TryRead(ref prefixOnly, TextCodec.Instance, out _));
        Assert.Contains("exceeds the limit", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Writing_a_message_over_the_limit_is_refused_locally()
    {
        var tooLong = new string('x', TextCodec.Instance.MaxMessageLength + 1);

        Assert.Throws<ArgumentException>(() => LengthPrefixedMessages.Write(new ArrayBufferWriter<byte>(), tooLong, TextCodec.Instance));
    }

    [Fact]
    public async Task A_clean_end_of_stream_is_no_message_and_a_cut_off_one_is_a_protocol_violation()
    {
        var clean = new Pipe();
        await clean.Writer.WriteAsync(Frame("one"));
        await clean.Writer.CompleteAsync();
        Assert.Equal((true, "one"), await LengthPrefixedMessages.ReadAsync(clean.Reader, TextCodec.Instance));
        Assert.False((await LengthPrefixedMessages.ReadAsync(clean.Reader, TextCodec.Instance)).Received);

        var cut = new Pipe();
        await cut.Writer.WriteAsync(Frame("truncated").AsMemory(0, 4));
        await cut.Writer.CompleteAsync();
        var refused = await Assert.ThrowsAsync<WireFormatException>(async () => await LengthPrefixedMessages.ReadAsync(cut.Reader, TextCodec.Instance));
        Assert.Contains("ended 4 bytes into a message", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_gets_its_response_and_each_failure_is_classified()
    {
        var network = new MemoryNetwork();
        await using var server = await TestHosts.StartOnMemoryAsync(network);
        await using var client = await TestHosts.StartOnMemoryAsync(network);
        client.PeerStore.AddAddresses(server.PeerId, server.ListenAddresses, TimeSpan.FromMinutes(1));
        server.SetStreamHandler("/upper/1", async (stream, token) =>
        {
            var request = await LengthPrefixedMessages.ReadRequiredAsync(stream.Input, TextCodec.Instance, token);
            await LengthPrefixedMessages.WriteAsync(stream.Output, request.ToUpperInvariant(), TextCodec.Instance, token);
        });
        server.SetStreamHandler("/silent/1", async (stream, token) => await Task.Delay(Timeout.Infinite, token));
        server.SetStreamHandler("/garbage/1", async (stream, token) => await stream.Output.WriteAsync(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f }, token));

        Task<string> Send(string protocol, TimeSpan timeout) =>
            RequestResponse.SendAsync(client, server.PeerId, [protocol], "hi", TextCodec.Instance, TextCodec.Instance, timeout);

        Assert.Equal("HI", await Send("/upper/1", Patience));
        Assert.Equal(RequestFailure.NotSupported, (await Assert.ThrowsAsync<ProtocolRequestException>(() => Send("/nobody/1", Patience))).Failure);
        Assert.Equal(RequestFailure.Timeout, (await Assert.ThrowsAsync<ProtocolRequestException>(() => Send("/silent/1", TimeSpan.FromMilliseconds(200)))).Failure);
        Assert.Equal(RequestFailure.ProtocolViolation, (await Assert.ThrowsAsync<ProtocolRequestException>(() => Send("/garbage/1", Patience))).Failure);

        var stranger = PeerIdOf(PrivateKey.Generate(KeyType.Ed25519));
        var unreachable = await Assert.ThrowsAsync<ProtocolRequestException>(() =>
            RequestResponse.SendAsync(client, stranger, ["/upper/1"], "hi", TextCodec.Instance, TextCodec.Instance, Patience));
        Assert.Equal(RequestFailure.Unreachable, unreachable.Failure);
    }

    [Fact]
    public async Task Several_exchanges_share_one_stream()
    {
        var network = new MemoryNetwork();
        await using var server = await TestHosts.StartOnMemoryAsync(network);
        await using var client = await TestHosts.StartOnMemoryAsync(network);
        server.SetStreamHandler("/upper/1", async (stream, token) =>
        {
            while (await LengthPrefixedMessages.ReadAsync(stream.Input, TextCodec.Instance, token) is (true, { } request))
            {
                await LengthPrefixedMessages.WriteAsync(stream.Output, request.ToUpperInvariant(), TextCodec.Instance, token);
            }
        });
        var connection = await client.ConnectAsync(server.ListenAddresses[0].WithPeerId(server.PeerId));
        await using var stream = await connection.NewStreamAsync(["/upper/1"]);

        foreach (var word in new[] { "one", "two", "three" })
        {
            Assert.Equal(word.ToUpperInvariant(), await RequestResponse.ExchangeAsync(stream, word, TextCodec.Instance, TextCodec.Instance, Patience));
        }
    }

    private static PeerId PeerIdOf(PrivateKey key) => PeerId.FromPublicKey(key.GetPublicKey());

    private static byte[] Frame(string text)
    {
        var writer = new ArrayBufferWriter<byte>();
        LengthPrefixedMessages.Write(writer, text, TextCodec.Instance);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>UTF-8 text messages of at most 64 bytes.</summary>
    private sealed class TextCodec : IMessageCodec<string>
    {
        public static TextCodec Instance { get; } = new();

        public int MaxMessageLength => 64;

        public int GetEncodedLength(string message) => Encoding.UTF8.GetByteCount(message);

        public void Encode(string message, Span<byte> destination) => Encoding.UTF8.GetBytes(message, destination);

        public string Decode(ReadOnlySpan<byte> body) => Encoding.UTF8.GetString(body);
    }
}
