using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Perf;

namespace ToolNet.Node.Cli;

/// <summary>Client commands that dial one remote node: <c>id</c>, <c>ping</c>, <c>perf</c>.</summary>
internal static class ClientCommands
{
    public static Command Id()
    {
        var address = Address();
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("id", "Dial a node and print what it says about itself (identify)") { address, logLevel };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, address, logLevel, async (node, connection, output, ct) =>
        {
            var result = await node.Identify.IdentifyAsync(connection, ct).ConfigureAwait(false);
            var record = result.SignedPeerRecord;
            output.Write(
                new
                {
                    peerId = result.Peer.ToString(),
                    agentVersion = result.AgentVersion,
                    protocolVersion = result.ProtocolVersion,
                    protocols = result.Protocols,
                    listenAddrs = result.ListenAddresses.Select(a => a.ToString()),
                    observedAddr = result.ObservedAddress?.ToString(),
                    signedPeerRecord = record is null ? null : new { seq = record.Seq, addrs = record.Addresses.Select(a => a.ToString()) },
                    connection = new { remoteAddr = connection.RemoteAddress.ToString(), security = connection.Security, muxer = connection.Muxer },
                },
                $"peer id           {result.Peer}\n" +
                $"agent version     {result.AgentVersion}\n" +
                $"protocol version  {result.ProtocolVersion}\n" +
                $"protocols         {string.Join(", ", result.Protocols)}\n" +
                $"listen addresses  {string.Join(", ", result.ListenAddresses)}\n" +
                $"observed address  {result.ObservedAddress}\n" +
                $"signed record     {(record is null ? "none" : $"seq {record.Seq}, {string.Join(", ", record.Addresses)}")}");
            return 0;
        }, cancellationToken));
        return command;
    }

    public static Command Ping()
    {
        var address = Address();
        var count = new Option<int>("-n", "--count") { Description = "How many pings", DefaultValueFactory = _ => 5 };
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("ping", "Measure round-trip times with /ipfs/ping/1.0.0") { address, count, logLevel };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, address, logLevel, async (node, connection, output, ct) =>
        {
            var n = parse.GetValue(count);
            if (n < 1)
            {
                return output.Fail("--count must be at least 1");
            }

            var rtts = await node.Ping.PingAsync(connection, n, ct).ConfigureAwait(false);
            output.Write(
                new { peerId = connection.RemotePeer.ToString(), rttsMs = rtts.Select(r => r.TotalMilliseconds) },
                string.Join('\n', rtts.Select((r, i) => $"ping {i + 1} to {connection.RemotePeer}: {r.TotalMilliseconds:F3} ms")));
            return 0;
        }, cancellationToken));
        return command;
    }

    public static Command Perf()
    {
        var address = Address();
        var upload = new Option<string>("--upload") { Description = "Bytes to upload (e.g. 1GiB, 64MiB, 1000)", DefaultValueFactory = _ => "0" };
        var download = new Option<string>("--download") { Description = "Bytes to download", DefaultValueFactory = _ => "0" };
        var connections = new Option<int>("--connections") { Description = "Instead: open and close N fresh connections in sequence and report handshakes per second" };
        var warmup = new Option<int>("--warmup") { Description = "With --connections: open and close this many connections first, untimed (JIT, pools)" };
        var warmupBytes = new Option<string>("--warmup-bytes") { Description = "With --upload/--download: first run an untimed perf stream of this many bytes each way", DefaultValueFactory = _ => "0" };
        var logLevel = CommonOptions.LogLevel(LogLevel.Warning);
        var command = new Command("perf", "Measure throughput (/perf/1.0.0) or connection setup rate against a node") { address, upload, download, connections, warmup, warmupBytes, logLevel };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, address, logLevel, async (node, connection, output, ct) =>
        {
            var count = parse.GetValue(connections);
            if (count > 0)
            {
                return await MeasureConnectionsAsync(node, connection, count, Math.Max(0, parse.GetValue(warmup)), output, ct).ConfigureAwait(false);
            }

            if (!ByteSize.TryParse(parse.GetValue(upload)!, out var up) || !ByteSize.TryParse(parse.GetValue(download)!, out var down)
                || !ByteSize.TryParse(parse.GetValue(warmupBytes)!, out var warm))
            {
                return output.Fail("--upload, --download and --warmup-bytes take a byte count such as 1GiB, 64MiB or 1000");
            }

            if (warm > 0)
            {
                await PerfService.PerfAsync(connection, warm, warm, ct).ConfigureAwait(false);
            }

            var result = await PerfService.PerfAsync(connection, up, down, ct).ConfigureAwait(false);
            output.Write(
                new
                {
                    uploadBytes = result.UploadBytes,
                    downloadBytes = result.DownloadBytes,
                    uploadSeconds = result.UploadTime.TotalSeconds,
                    downloadSeconds = result.DownloadTime.TotalSeconds,
                    totalSeconds = result.Total.TotalSeconds,
                    uploadMBps = result.UploadBytesPerSecond / 1e6,
                    downloadMBps = result.DownloadBytesPerSecond / 1e6,
                },
                $"upload    {result.UploadBytes,14:N0} bytes in {result.UploadTime.TotalSeconds:F3} s = {result.UploadBytesPerSecond / 1e6:F1} MB/s\n" +
                $"download  {result.DownloadBytes,14:N0} bytes in {result.DownloadTime.TotalSeconds:F3} s = {result.DownloadBytesPerSecond / 1e6:F1} MB/s");
            return 0;
        }, cancellationToken));
        return command;
    }

    private static async Task<int> MeasureConnectionsAsync(NodeServices node, IConnection first, int count, int warmup, CommandOutput output, CancellationToken cancellationToken)
    {
        var address = first.RemoteAddress.WithPeerId(first.RemotePeer);
        await CloseAndWaitAsync(first).ConfigureAwait(false);
        await OpenAndCloseAsync(node, address, warmup, cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await OpenAndCloseAsync(node, address, count, cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        output.Write(
            new { connections = count, seconds, connectionsPerSecond = count / seconds },
            $"{count} connections (dial + noise + yamux + close) in {seconds:F3} s = {count / seconds:F1} per second");
        return 0;
    }

    private static async Task OpenAndCloseAsync(NodeServices node, Multiaddr address, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            var connection = await node.Host.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            await CloseAndWaitAsync(connection).ConfigureAwait(false);
        }
    }

    private static async Task CloseAndWaitAsync(IConnection connection)
    {
        await connection.CloseAsync().ConfigureAwait(false);
        try
        {
            await connection.Completion.ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
    }

    private static Argument<string> Address() => new("address") { Description = "The remote node's multiaddr, ending in /p2p/<peer id>" };

    /// <summary>Starts a client-only node with a throwaway identity, dials the address, runs the action.</summary>
    private static async Task<int> RunAsync(
        ParseResult parse,
        Argument<string> addressArgument,
        Option<LogLevel> logLevel,
        Func<NodeServices, IConnection, CommandOutput, CancellationToken, Task<int>> action,
        CancellationToken cancellationToken)
    {
        var output = new CommandOutput(parse);
        if (!Multiaddr.TryParse(parse.GetValue(addressArgument), out var address))
        {
            return output.Fail($"'{parse.GetValue(addressArgument)}' is not a multiaddr");
        }

        using var loggerFactory = CommonOptions.CreateLoggerFactory(parse.GetValue(logLevel));
        await using var node = await NodeServices.StartAsync(PrivateKey.Generate(KeyType.Ed25519), [], enablePerf: false, loggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await node.Host.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
            return await action(node, connection, output, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or TimeoutException or ToolNet.Protocol.WireFormatException
            or ToolNet.Protocol.Multistream.ProtocolNegotiationException or System.Security.Authentication.AuthenticationException or InvalidOperationException)
        {
            return output.Fail(e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // SIGINT/SIGTERM: the conventional exit code of an interrupted command.
            return output.Fail("interrupted", 130);
        }
    }
}
