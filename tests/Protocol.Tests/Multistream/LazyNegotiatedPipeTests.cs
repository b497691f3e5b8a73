using System.Buffers;
using System.IO.Pipelines;
using ToolNet.Protocol.Multistream;
using static ToolNet.Protocol.Tests.Multistream.MultistreamSelectTests;
using static ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.Multistream;

public class LazyNegotiatedPipeTests
{
    private static readonly byte[] Header = Msg(MultistreamMessage.ProtocolId);

    [Fact]
    public async Task Data_written_before_the_confirmation_leaves_with_the_proposal_in_one_flush()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        await lazy.Output.WriteAsync("ping"u8.ToArray(), Guard());

        var arrived = await pair.Right.Input.ReadAsync(Guard());
        Assert.Equal([.. Header, .. Msg("/echo/1"), .. "ping"u8], arrived.Buffer.ToArray());
        pair.Right.Input.AdvanceTo(arrived.Buffer.Start);

        Assert.Equal("/echo/1", await MultistreamSelect.HandleAsync(pair.Right, ["/echo/1"], Guard()));
        Assert.Equal("ping"u8.ToArray(), await ReceiveAsync(pair.Right.Input, 4));
        await pair.Right.Output.WriteAsync("pong"u8.ToArray(), Guard());

        Assert.False(lazy.IsConfirmed);
        Assert.Equal("pong"u8.ToArray(), await ReceiveAsync(lazy.Input, 4));
        Assert.True(lazy.IsConfirmed);

        await lazy.Output.WriteAsync("again"u8.ToArray(), Guard());
        Assert.Equal("again"u8.ToArray(), await ReceiveAsync(pair.Right.Input, 5));
    }

    [Fact]
    public async Task Reading_first_sends_the_proposal_alone()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/ipfs/id/1.0.0");
        var read = lazy.Input.ReadAsync(Guard()).AsTask();

        Assert.Equal("/ipfs/id/1.0.0", await MultistreamSelect.HandleAsync(pair.Right, ["/ipfs/id/1.0.0"], Guard()));
        await pair.Right.Output.WriteAsync("identify"u8.ToArray(), Guard());

        var result = await read;
        Assert.Equal("identify"u8.ToArray(), result.Buffer.ToArray());
        lazy.Input.AdvanceTo(result.Buffer.End);

        await lazy.Output.WriteAsync("later"u8.ToArray(), Guard());
        Assert.Equal("later"u8.ToArray(), await ReceiveAsync(pair.Right.Input, 5));
    }

    [Fact]
    public async Task Data_arriving_with_the_confirmation_is_the_first_thing_read()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        await SendAsync(pair.Right.Output, [.. Header, .. Msg("/echo/1"), .. "hello"u8]);

        Assert.Equal("hello"u8.ToArray(), await ReceiveAsync(lazy.Input, 5));
    }

    [Fact]
    public async Task The_confirmation_may_arrive_one_byte_at_a_time()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        var read = ReceiveAsync(lazy.Input, 2);
        foreach (var b in (byte[])[.. Header, .. Msg("/echo/1"), .. "ok"u8])
        {
            await SendAsync(pair.Right.Output, [b]);
        }

        Assert.Equal("ok"u8.ToArray(), await read);
    }

    [Fact]
    public async Task A_rejected_proposal_fails_the_next_read_and_flush()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/missing/1");
        await lazy.Output.WriteAsync("request"u8.ToArray(), Guard());
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/other/1"], Guard()).AsTask();

        var read = await Assert.ThrowsAsync<ProtocolNegotiationException>(async () => await lazy.Input.ReadAsync(Guard()));
        Assert.Equal(NegotiationFailure.NotSupported, read.Failure);
        Assert.Contains("'/missing/1'", read.Message, StringComparison.Ordinal);
        Assert.Throws<ProtocolNegotiationException>(() => lazy.Input.TryRead(out _));
        await Assert.ThrowsAsync<ProtocolNegotiationException>(async () => await lazy.Output.WriteAsync("more"u8.ToArray(), Guard()));
        await Assert.ThrowsAsync<ProtocolNegotiationException>(() => lazy.ConfirmAsync(Guard()));

        // The caller closes the stream; the responder, still waiting for a proposal, fails as well.
        await lazy.Output.CompleteAsync();
        await Assert.ThrowsAsync<ProtocolNegotiationException>(() => handle);
    }

    [Fact]
    public async Task Completing_the_output_early_sends_the_FIN_only_after_the_confirmation()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/req/1");
        await lazy.Output.WriteAsync("request"u8.ToArray(), Guard());
        var completion = lazy.Output.CompleteAsync().AsTask();

        var arrived = await pair.Right.Input.ReadAsync(Guard());
        Assert.Equal([.. Header, .. Msg("/req/1"), .. "request"u8], arrived.Buffer.ToArray());
        Assert.False(arrived.IsCompleted);
        Assert.False(completion.IsCompleted);
        pair.Right.Input.AdvanceTo(arrived.Buffer.Start);

        Assert.Equal("/req/1", await MultistreamSelect.HandleAsync(pair.Right, ["/req/1"], Guard()));
        Assert.Equal("request"u8.ToArray(), await ReceiveAllAsync(pair.Right.Input));
        await completion;
    }

    [Fact]
    public async Task A_synchronous_complete_also_waits_for_the_confirmation_and_sends_unflushed_data()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/req/1");
        lazy.Output.Write("unflushed"u8);
        lazy.Output.Complete();

        var arrived = await pair.Right.Input.ReadAsync(Guard());
        Assert.False(arrived.IsCompleted);
        pair.Right.Input.AdvanceTo(arrived.Buffer.Start);

        Assert.Equal("/req/1", await MultistreamSelect.HandleAsync(pair.Right, ["/req/1"], Guard()));
        Assert.Equal("unflushed"u8.ToArray(), await ReceiveAllAsync(pair.Right.Input));
    }

    [Fact]
    public async Task Completing_both_sides_before_the_confirmation_still_delivers_and_closes()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/fire/1");
        await lazy.Output.WriteAsync("forget"u8.ToArray(), Guard());
        lazy.Input.Complete();
        lazy.Output.Complete();

        Assert.Equal("/fire/1", await MultistreamSelect.HandleAsync(pair.Right, ["/fire/1"], Guard()));
        Assert.Equal("forget"u8.ToArray(), await ReceiveAllAsync(pair.Right.Input));
    }

    [Fact]
    public async Task ConfirmAsync_learns_the_outcome_without_reading()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        var handle = MultistreamSelect.HandleAsync(pair.Right, ["/echo/1"], Guard()).AsTask();
        await lazy.ConfirmAsync(Guard());
        Assert.True(lazy.IsConfirmed);
        Assert.Equal("/echo/1", await handle);
        Assert.False(lazy.Input.TryRead(out _));
    }

    [Fact]
    public async Task TryRead_returns_nothing_until_the_confirmation_then_passes_through()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        Assert.False(lazy.Input.TryRead(out _));

        await SendAsync(pair.Right.Output, [.. Header, .. Msg("/echo/1"), .. "x"u8]);
        await lazy.ConfirmAsync(Guard());
        Assert.True(lazy.Input.TryRead(out var result));
        Assert.Equal("x"u8.ToArray(), result.Buffer.ToArray());
    }

    [Fact]
    public async Task A_cancelled_first_read_leaves_the_negotiation_intact()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        using var cancel = new CancellationTokenSource();
        var read = lazy.Input.ReadAsync(cancel.Token).AsTask();
        await ReceiveAsync(pair.Right.Input, Header.Length); // the read has sent the proposal and waits
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

        await SendAsync(pair.Right.Output, [.. Header, .. Msg("/echo/1"), .. "y"u8]);
        Assert.Equal("y"u8.ToArray(), await ReceiveAsync(lazy.Input, 1));
    }

    [Fact]
    public async Task CancelPendingRead_before_the_confirmation_returns_a_cancelled_result()
    {
        var pair = new PipePair();
        var lazy = MultistreamSelect.SelectLazily(pair.Left, "/echo/1");
        var read = lazy.Input.ReadAsync(Guard()).AsTask();
        await ReceiveAsync(pair.Right.Input, Header.Length);
        lazy.Input.CancelPendingRead();
        Assert.True((await read).IsCanceled);

        lazy.Input.CancelPendingRead(); // with no read pending, it cancels the next one
        Assert.True((await lazy.Input.ReadAsync(Guard())).IsCanceled);

        await SendAsync(pair.Right.Output, [.. Header, .. Msg("/echo/1"), .. "z"u8]);
        Assert.Equal("z"u8.ToArray(), await ReceiveAsync(lazy.Input, 1));
    }

    [Fact]
    public async Task A_garbled_confirmation_fails_only_as_a_negotiation_failure()
    {
        byte[] valid = [.. Header, .. Msg("/p")];
        for (var i = 0; i < valid.Length; i++)
        {
            foreach (var garbage in new[] { valid[..i], Corrupt(valid, i) })
            {
                var pair = new PipePair();
                var lazy = MultistreamSelect.SelectLazily(pair.Left, "/p");
                await SendAsync(pair.Right.Output, garbage);
                await pair.Right.Output.CompleteAsync();
                var exception = await Record.ExceptionAsync(async () => await lazy.Input.ReadAsync(Guard()));
                Assert.True(exception is null or ProtocolNegotiationException, $"{Convert.ToHexString(garbage)}: {exception}");
            }
        }
    }

    private static byte[] Corrupt(byte[] valid, int index)
    {
        var copy = (byte[])valid.Clone();
        copy[index] ^= 0x5a;
        return copy;
    }
}
