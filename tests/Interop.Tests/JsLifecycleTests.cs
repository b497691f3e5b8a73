using System.Buffers.Binary;
using System.IO.Pipelines;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Perf;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>Streams reset mid-transfer and connections closed, by either side, between our node and js-libp2p: the
/// connection survives a reset, every side sees a close, and nothing is left open.</summary>
public sealed class JsLifecycleTests(JsPeerFixture fixture, ITestOutputHelper output) : JsInteropTest(fixture, output)
{
    private const int TransferBytes = 1024 * 1024;

    public static TheoryData<string, string> ProtocolsAndPhases => new()
    {
        { EchoService.ProtocolId, "upload" },
        { EchoService.ProtocolId, "download" },
        { PerfService.ProtocolId, "upload" },
        { PerfService.ProtocolId, "download" },
    };

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public Task Js_resets_streams_mid_transfer_and_the_connection_carries_on(Transport transport, Dialer dialer) =>
        RunAsync(transport, dialer, async session =>
        {
            foreach (var (protocol, phase) in ProtocolsAndPhases.Select(row => ((string)row[0], (string)row[1])))
            {
                var reset = await Js.CommandAsync(
                    "resetMidTransfer", new { peerId = session.PeerId, protocol, phase, bytes = TransferBytes }, session.Token);

                var what = $"{protocol} {phase}: {reset.ToJsonString()}";
                Assert.True(reset["streamStatus"]!.GetValue<string>() == "aborted", what);
                Assert.True(reset["connectionStatus"]!.GetValue<string>() == "open", what);
                Assert.True(reset["connectionId"]!.GetValue<string>() == session.JsConnectionId, what);
                Assert.True(reset["pingMs"]!.GetValue<double>() >= 0, what);
                await CSharpNode.WaitForNoStreamsAsync(session.Connection, session.Token);
                await PingBothWaysAsync(session);
            }
        });

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public Task We_reset_streams_mid_transfer_and_the_connection_carries_on(Transport transport, Dialer dialer) =>
        RunAsync(transport, dialer, async session =>
        {
            foreach (var (protocol, phase) in ProtocolsAndPhases.Select(row => ((string)row[0], (string)row[1])))
            {
                await ResetMidTransferAsync(session, protocol, phase);

                await CSharpNode.WaitForNoStreamsAsync(session.Connection, session.Token);
                await Wait.UntilAsync(
                    async () => (await JsConnectionAsync(session.PeerId, session.Token))?["streams"]?.GetValue<int>() == 0,
                    $"js to drop the {protocol} stream we reset ({phase})",
                    session.Token);
                Assert.Equal("open", (await JsConnectionAsync(session.PeerId, session.Token))!["status"]!.GetValue<string>());
                await PingBothWaysAsync(session);
            }
        });

    public static TheoryData<Transport, Dialer, Dialer> TransportsDialersAndClosers
    {
        get
        {
            var data = new TheoryData<Transport, Dialer, Dialer>();
            foreach (var row in InteropCases.TransportsAndDialers)
            {
                data.Add((Transport)row[0], (Dialer)row[1], Dialer.Js);
                data.Add((Transport)row[0], (Dialer)row[1], Dialer.CSharp);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TransportsDialersAndClosers))]
    public Task A_closed_connection_is_gone_on_both_sides(Transport transport, Dialer dialer, Dialer closer) =>
        RunAsync(
            transport,
            dialer,
            async session =>
            {
                var closed = new TaskCompletionSource<IConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
                session.Node.Host.ConnectionClosed += (_, connection) => closed.TrySetResult(connection);

                if (closer == Dialer.Js)
                {
                    var hangup = await Js.CommandAsync("hangup", new { peerId = session.PeerId }, session.Token);
                    Assert.Equal(1, hangup["closed"]!.GetValue<int>());
                }
                else
                {
                    await session.Connection.CloseAsync(session.Token);
                }

                // Our host: the ConnectionClosed event for this connection, and no connection left.
                Assert.Same(session.Connection, await closed.Task.WaitAsync(session.Token));
                Assert.True(session.Connection.Completion.IsCompleted);
                Assert.Empty(session.Node.Host.GetConnections());
                Assert.Equal(0, session.Node.Host.ConnectionCount);

                // js: its connection:close event for this connection, and no connection left.
                var jsClosed = await Js.WaitForEventAsync(
                    e => e["event"]!.GetValue<string>() == "connection:close" && e["connectionId"]!.GetValue<string>() == session.JsConnectionId,
                    session.Token);
                Assert.Equal(session.PeerId, jsClosed["peerId"]!.GetValue<string>());
                Assert.Null(await JsConnectionAsync(session.PeerId, session.Token));
            },
            keepsConnection: false);

    private async Task PingBothWaysAsync(InteropSession session)
    {
        Assert.Single(await session.Node.Services.Ping.PingAsync(session.Connection, 1, session.Token));
        var ping = await Js.CommandAsync("ping", new { peerId = session.PeerId }, session.Token);
        Assert.Equal(session.JsConnectionId, ping["connectionId"]!.GetValue<string>());
    }

    /// <summary>
    /// Opens <paramref name="protocol"/> to js and resets the stream mid-transfer. <c>upload</c>: sends
    /// <see cref="TransferBytes"/> (perf: after a request for nothing) and resets before closing our side, while js
    /// still waits for the end of the stream. <c>download</c>: makes js send (echo: sends the bytes and closes; perf:
    /// asks for 64 times as many) and resets once half of <see cref="TransferBytes"/> has arrived.
    /// </summary>
    private static async Task ResetMidTransferAsync(InteropSession session, string protocol, string phase)
    {
        var token = session.Token;
        var stream = await session.Connection.NewStreamAsync([protocol], token);
        await using (stream)
        {
            var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var reading = ReadUntilResetAsync(stream.Input, () => halfway.TrySetResult(), token);
            if (protocol == PerfService.ProtocolId)
            {
                var request = new byte[sizeof(ulong)];
                BinaryPrimitives.WriteUInt64BigEndian(request, phase == "download" ? 64UL * TransferBytes : 0);
                await stream.Output.WriteAsync(request, token);
            }

            if (phase == "upload" || protocol == EchoService.ProtocolId)
            {
                var chunk = new byte[64 * 1024];
                for (var sent = 0; sent < TransferBytes; sent += chunk.Length)
                {
                    Assert.False((await stream.Output.WriteAsync(chunk, token)).IsCompleted, $"js stopped reading {protocol}");
                }
            }

            if (phase == "download")
            {
                await stream.CloseWriteAsync(token);
                await halfway.Task.WaitAsync(token);
            }

            stream.Reset();
            var received = await reading.WaitAsync(token);
            if (protocol == PerfService.ProtocolId && phase == "download")
            {
                Assert.True(received < 64L * TransferBytes, $"the perf download ended before our reset ({received} bytes)");
            }
        }
    }

    /// <summary>Reads and discards until our reset ends the stream; calls <paramref name="halfway"/> once half of
    /// <see cref="TransferBytes"/> has come. Returns how many bytes came.</summary>
    private static async Task<long> ReadUntilResetAsync(PipeReader input, Action halfway, CancellationToken cancellationToken)
    {
        await Task.Yield();
        long received = 0;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(cancellationToken);
                received += read.Buffer.Length;
                input.AdvanceTo(read.Buffer.End);
                if (received >= TransferBytes / 2)
                {
                    halfway();
                }

                if (read.IsCompleted)
                {
                    return received;
                }
            }
        }
        catch (StreamResetException)
        {
            return received;
        }
    }
}
