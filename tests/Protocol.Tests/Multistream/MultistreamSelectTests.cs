using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using ToolNet.Protocol.Multiformats;
using ToolNet.Protocol.Multistream;
using static ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.Multistream;

public class MultistreamSelectTests
{
    private static readonly JsonElement Transcript =
        VectorFile.Json("multistream", "multistream-select-vectors.json").GetProperty("derived_transcript_example");

    private static readonly byte[] Header = Msg(MultistreamMessage.ProtocolId);
    private static readonly byte[] Na = Msg(MultistreamMessage.NotAvailable);

    [Fact]
    public async Task Initiator_sends_header_and_proposal_in_one_flush_and_accepts_the_echo()
    {
        var pair = new PipePair();
        var select = MultistreamSelect.SelectAsync(pair.Left, ["/noise"], Guard()).AsTask();

        var sent = await pair.Right.Input.ReadAsync(Guard());
        Assert.Equal(Transcript.GetProperty("initiator_sends_hex").Hex(), sent.Buffer.ToArray());
        pair.Right.Input.AdvanceTo(sent.Buffer.End);

        await SendAsync(pair.Right.Output, Transcript.GetProperty("responder_replies_hex_if_supported").Hex());
        Assert.Equal("/noise", await select);
    }

    [Fact]
    public async Task Responder_answers_the_transcript_with_header_and_echo_in_one_flush()
    {
        var pair = new PipePair();
        await SendAsync(pair.Left.Output, Transcript.GetProperty("initiator_sends_hex").Hex());
        Assert.Equal("/noise", await MultistreamSelect.HandleAsync(pair.Right, ["/yamux/1.0.0", "/noise"], Guard()));

        var answer = await pair.Left.Input.ReadAsync(Guard());
        Assert.Equal(Transcript.GetProperty("responder_replies_hex_if_supported").Hex(), answer.Buffer.ToArray());
    }

    [Fact]
    public async Task Responder_answers_an_unsupported_transcript_with_header_and_na()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/yamux/1.0.0"], Guard()).AsTask();
        await SendAsync(pair.Left.Output, Transcript.GetProperty("initiator_sends_hex").Hex());

        var expected = Transcript.GetProperty("responder_replies_hex_if_unsupported").Hex();
        Assert.Equal(expected, await ReceiveAsync(pair.Left.Input, expected.Length));
        await pair.Left.Output.CompleteAsync();
        var e = await Assert.ThrowsAsync<ProtocolNegotiationException>(() => handle);
        Assert.Equal(NegotiationFailure.RemoteClosed, e.Failure);
        Assert.Contains("'/noise'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initiator_and_responder_agree_on_the_first_shared_protocol()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/yamux/1.0.0", "/noise"], Guard()).AsTask();
        Assert.Equal("/noise", await MultistreamSelect.SelectAsync(pair.Left, ["/noise", "/tls/1.0.0"], Guard()));
        Assert.Equal("/noise", await handle);
    }

    [Fact]
    public async Task Initiator_moves_on_after_na_and_agrees_on_the_second_proposal()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/noise"], Guard()).AsTask();
        Assert.Equal("/noise", await MultistreamSelect.SelectAsync(pair.Left, ["/tls/1.0.0", "/noise"], Guard()));
        Assert.Equal("/noise", await handle);
    }

    [Fact]
    public async Task Nothing_supported_fails_both_sides_with_a_clear_message()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/yamux/1.0.0"], Guard()).AsTask();

        var initiator = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.SelectAsync(pair.Left, ["/mplex/6.7.0", "/other/1"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.NotSupported, initiator.Failure);
        Assert.Contains("none of the proposed protocols: /mplex/6.7.0, /other/1", initiator.Message, StringComparison.Ordinal);

        await pair.Left.Output.CompleteAsync(); // what the caller does after a failed negotiation
        var responder = await Assert.ThrowsAsync<ProtocolNegotiationException>(() => handle);
        Assert.Equal(NegotiationFailure.RemoteClosed, responder.Failure);
        Assert.Contains("after rejecting '/mplex/6.7.0', '/other/1'", responder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Responder_lists_its_protocols_on_ls()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], Guard()).AsTask();
        Assert.Equal(["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"], await MultistreamSelect.ListAsync(pair.Left, Guard()));

        await pair.Left.Output.CompleteAsync();
        Assert.Equal(NegotiationFailure.RemoteClosed, (await Assert.ThrowsAsync<ProtocolNegotiationException>(() => handle)).Failure);
    }

    [Fact]
    public async Task Responder_answers_ls_then_a_proposal_in_the_same_exchange()
    {
        var pair = new PipePair();
        await SendAsync(pair.Left.Output, [.. Header, .. Msg("ls"), .. Msg("/b")]);
        var chosen = await MultistreamSelect.HandleAsync(pair.Right, p => p.StartsWith("/b", StringComparison.Ordinal), ["/a", "/b"], Guard());
        Assert.Equal("/b", chosen);

        var list = new ArrayBufferWriter<byte>();
        MultistreamMessage.WriteProtocolList(list, ["/a", "/b"]);
        byte[] expected = [.. Header, .. list.WrittenSpan, .. Msg("/b")];
        Assert.Equal(expected, await ReceiveAsync(pair.Left.Input, expected.Length));
    }

    [Fact]
    public async Task Data_after_the_proposal_stays_in_the_responders_pipe()
    {
        var pair = new PipePair();
        await SendAsync(pair.Left.Output, [.. Header, .. Msg("/echo/1"), .. "hello"u8]);
        Assert.Equal("/echo/1", await MultistreamSelect.HandleAsync(pair.Right, ["/echo/1"], Guard()));

        // Returned at once: neither consumed nor marked examined by the negotiation.
        Assert.True(pair.Right.Input.TryRead(out var rest));
        Assert.Equal("hello"u8.ToArray(), rest.Buffer.ToArray());
    }

    [Fact]
    public async Task Data_after_the_echo_stays_in_the_initiators_pipe()
    {
        var pair = new PipePair();
        await SendAsync(pair.Right.Output, [.. Header, .. Na, .. Msg("/echo/1"), .. "world"u8]);
        Assert.Equal("/echo/1", await MultistreamSelect.SelectAsync(pair.Left, ["/echo/2", "/echo/1"], Guard()));

        Assert.True(pair.Left.Input.TryRead(out var rest));
        Assert.Equal("world"u8.ToArray(), rest.Buffer.ToArray());
    }

    [Fact]
    public async Task Responder_handles_the_initiator_arriving_one_byte_at_a_time()
    {
        var pair = new PipePair();
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/noise"], Guard()).AsTask();
        foreach (var b in Transcript.GetProperty("initiator_sends_hex").Hex())
        {
            await SendAsync(pair.Left.Output, [b]);
        }

        Assert.Equal("/noise", await handle);
        var expected = Transcript.GetProperty("responder_replies_hex_if_supported").Hex();
        Assert.Equal(expected, await ReceiveAsync(pair.Left.Input, expected.Length));
    }

    [Fact]
    public async Task Initiator_handles_the_responder_arriving_one_byte_at_a_time()
    {
        var pair = new PipePair();
        var select = MultistreamSelect.SelectAsync(pair.Left, ["/tls/1.0.0", "/noise"], Guard()).AsTask();
        foreach (var b in (byte[])[.. Header, .. Na, .. Msg("/noise")])
        {
            await SendAsync(pair.Right.Output, [b]);
        }

        Assert.Equal("/noise", await select);
    }

    [Fact]
    public async Task Responder_gives_up_after_the_proposal_bound()
    {
        var pair = new PipePair();
        var flood = new List<byte>(Header);
        for (var i = 0; i <= MultistreamSelect.MaxProposals; i++)
        {
            flood.AddRange(Msg($"/nope/{i}"));
        }

        await SendAsync(pair.Left.Output, [.. flood]);
        var e = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.HandleAsync(pair.Right, ["/yes"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.TooManyAttempts, e.Failure);

        byte[] expected = [.. Header, .. Enumerable.Repeat(Na, MultistreamSelect.MaxProposals).SelectMany(b => b)];
        Assert.Equal(expected, await ReceiveAsync(pair.Left.Input, expected.Length));
    }

    [Fact]
    public async Task A_wrong_header_is_a_protocol_violation_on_both_sides()
    {
        var toResponder = new PipePair();
        await SendAsync(toResponder.Left.Output, [.. Msg("/multistream/2.0.0"), .. Msg("/noise")]);
        var responder = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.HandleAsync(toResponder.Right, ["/noise"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.ProtocolViolation, responder.Failure);
        Assert.Contains("'/multistream/2.0.0'", responder.Message, StringComparison.Ordinal);

        var toInitiator = new PipePair();
        await SendAsync(toInitiator.Right.Output, [.. Msg("/noise"), .. Msg("/noise")]);
        var initiator = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.SelectAsync(toInitiator.Left, ["/noise"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.ProtocolViolation, initiator.Failure);
    }

    [Fact]
    public async Task An_answer_that_is_neither_echo_nor_na_is_a_protocol_violation()
    {
        var pair = new PipePair();
        await SendAsync(pair.Right.Output, [.. Header, .. Msg("/yamux/1.0.0")]);
        var e = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.SelectAsync(pair.Left, ["/noise"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.ProtocolViolation, e.Failure);
        Assert.Contains("answered our proposal '/noise' with '/yamux/1.0.0'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_proposal_is_rejected_before_its_body_arrives()
    {
        var pair = new PipePair();
        await SendAsync(pair.Left.Output, [.. Header, .. Varint.Encode(2000), .. "/start-of-a-long-id"u8]);
        var e = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.HandleAsync(pair.Right, ["/noise"], Guard()).AsTask());
        Assert.Equal(NegotiationFailure.ProtocolViolation, e.Failure);
        Assert.IsType<WireFormatException>(e.InnerException, exactMatch: false);
    }

    [Fact]
    public async Task A_remote_message_without_newline_is_a_protocol_violation()
    {
        var pair = new PipePair();
        await SendAsync(pair.Right.Output, [.. Header, 0x03, (byte)'n', (byte)'a', (byte)'!']);
        var e = await Assert.ThrowsAsync<ProtocolNegotiationException>(
            () => MultistreamSelect.SelectAsync(pair.Left, ["/noise"], Guard()).AsTask());
        Assert.Contains("newline", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_is_honoured_while_waiting_for_the_remote()
    {
        var initiatorPair = new PipePair();
        using var initiatorCancel = new CancellationTokenSource();
        var select = MultistreamSelect.SelectAsync(initiatorPair.Left, ["/noise"], initiatorCancel.Token).AsTask();
        await ReceiveAsync(initiatorPair.Right.Input, Header.Length); // it is now waiting for an answer
        await initiatorCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => select);

        var responderPair = new PipePair();
        using var responderCancel = new CancellationTokenSource();
        var handle = MultistreamSelect.HandleAsync(responderPair.Right, ["/noise"], responderCancel.Token).AsTask();
        await SendAsync(responderPair.Left.Output, Header);
        await ReceiveAsync(responderPair.Left.Input, Header.Length); // it has answered the header and waits for a proposal
        await responderCancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle);
    }

    [Fact]
    public async Task Garbage_from_a_responder_only_ever_fails_as_a_negotiation_failure()
    {
        byte[] valid = [.. Header, .. Msg("/p")];
        foreach (var garbage in Mutations(valid))
        {
            var pair = new PipePair();
            var select = MultistreamSelect.SelectAsync(pair.Left, ["/p"], Guard()).AsTask();
            await SendAsync(pair.Right.Output, garbage);
            await pair.Right.Output.CompleteAsync();
            await AssertSucceedsOrFailsAsNegotiation(select, garbage);
        }
    }

    [Fact]
    public async Task Garbage_from_an_initiator_only_ever_fails_as_a_negotiation_failure()
    {
        byte[] valid = [.. Header, .. Msg("ls"), .. Msg("/p")];
        foreach (var garbage in Mutations(valid))
        {
            var pair = new PipePair();
            var handle = MultistreamSelect.HandleAsync(pair.Right, _ => true, ["/p"], Guard()).AsTask();
            await SendAsync(pair.Left.Output, garbage);
            await pair.Left.Output.CompleteAsync();
            await AssertSucceedsOrFailsAsNegotiation(handle, garbage);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("na")]
    [InlineData("ls")]
    [InlineData("/two\nlines")]
    public void Refuses_to_propose_what_is_not_a_protocol_id(string protocol)
    {
        var pair = new PipePair();
        Assert.ThrowsAny<ArgumentException>(() => MultistreamSelect.SelectLazily(pair.Left, protocol));
    }

    [Fact]
    public void Refuses_to_propose_a_lone_surrogate()
    {
        var pair = new PipePair();
        Assert.ThrowsAny<ArgumentException>(() => MultistreamSelect.SelectLazily(pair.Left, "/x\ud800"));
    }

    [Fact]
    public async Task Refuses_to_propose_nothing_or_a_protocol_id_over_1_KiB()
    {
        var pair = new PipePair();
        await Assert.ThrowsAsync<ArgumentException>(() => MultistreamSelect.SelectAsync(pair.Left, [], Guard()).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(
            () => MultistreamSelect.SelectAsync(pair.Left, ["/" + new string('x', MultistreamMessage.MaxProtocolIdLength)], Guard()).AsTask());
        Assert.Equal(MultistreamMessage.MaxProtocolIdLength, MultistreamSelect.SelectLazily(pair.Left, "/" + new string('x', 1023)).Protocol.Length);
    }

    internal static byte[] Msg(string message) => MultistreamMessageTests.Encode(message);

    /// <summary>Every single-byte corruption and truncation of <paramref name="valid"/>, and seeded random noise.</summary>
    private static IEnumerable<byte[]> Mutations(byte[] valid)
    {
        byte[] replacements = [0x00, 0x01, 0x0a, 0x7f, 0x80, 0xff];
        for (var i = 0; i < valid.Length; i++)
        {
            yield return valid[..i];
            foreach (var replacement in replacements.Append((byte)(valid[i] ^ 0x01)))
            {
                var mutated = (byte[])valid.Clone();
                mutated[i] = replacement;
                yield return mutated;
            }
        }

        var random = new Random(20251118);
        for (var i = 0; i < 200; i++)
        {
            var noise = new byte[random.Next(0, 64)];
            random.NextBytes(noise);
            yield return i % 2 == 0 ? noise : [.. Header, .. noise];
        }
    }

    private static async Task AssertSucceedsOrFailsAsNegotiation(Task negotiation, byte[] input)
    {
        var exception = await Record.ExceptionAsync(() => negotiation);
        Assert.True(
            exception is null or ProtocolNegotiationException,
            $"input {Convert.ToHexString(input)} raised {exception}");
    }
}
