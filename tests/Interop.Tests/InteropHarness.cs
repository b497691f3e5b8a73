using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using ToolNet.Node.Runtime;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Yamux;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>The transport an interop connection runs over.</summary>
public enum Transport
{
    Tcp,
    WebSocket,
}

/// <summary>Which side opens the connection.</summary>
public enum Dialer
{
    /// <summary>Our host dials js.</summary>
    CSharp,

    /// <summary>js dials our host.</summary>
    Js,
}

/// <summary>One js peer shared by the tests of a class (xunit class fixture).</summary>
public sealed class JsPeerFixture : IAsyncLifetime
{
    private JsPeer? _js;

    internal JsPeer Js => _js ?? throw new InvalidOperationException("the js peer has not started");

    public async Task InitializeAsync() => _js = await JsPeer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_js is not null)
        {
            await _js.DisposeAsync();
        }
    }
}

/// <summary>Theory data: every transport with every dialer.</summary>
public static class InteropCases
{
    public static TheoryData<Transport, Dialer> TransportsAndDialers => new()
    {
        { Transport.Tcp, Dialer.CSharp },
        { Transport.Tcp, Dialer.Js },
        { Transport.WebSocket, Dialer.CSharp },
        { Transport.WebSocket, Dialer.Js },
    };
}

/// <summary>
/// A ToolNet node built by the same composition root as the <c>toolnet</c> executable (<see cref="NodeServices"/>:
/// TCP + WebSocket, Noise, Yamux, identify, ping, echo, perf), listening on 127.0.0.1 with a fresh identity, so that
/// every test gets connections of its own on a shared js peer.
/// </summary>
internal sealed class CSharpNode : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;

    private CSharpNode(NodeServices services, ILoggerFactory loggerFactory)
    {
        Services = services;
        _loggerFactory = loggerFactory;
    }

    public NodeServices Services { get; }

    public Libp2pHost Host => Services.Host;

    public static Task<CSharpNode> StartAsync(ITestOutputHelper? output, CancellationToken cancellationToken) =>
        StartAsync(output, NatTraversalSettings.None, cancellationToken);

    /// <summary>A node that also relays, reserves on relays or keeps peers as <paramref name="nat"/> says.</summary>
    public static async Task<CSharpNode> StartAsync(ITestOutputHelper? output, NatTraversalSettings nat, CancellationToken cancellationToken)
    {
        var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Debug)
            .AddProvider(new TestOutputLoggerProvider(output)));
        try
        {
            var services = await NodeServices.StartAsync(
                PrivateKey.Generate(KeyType.Ed25519),
                [Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), Multiaddr.Parse("/ip4/127.0.0.1/tcp/0/ws")],
                enablePerf: true,
                nat,
                AddressLimits.Default,
                loggerFactory,
                cancellationToken);
            return new CSharpNode(services, loggerFactory);
        }
        catch
        {
            loggerFactory.Dispose();
            throw;
        }
    }

    /// <summary>Our listen address on <paramref name="transport"/>, ending in <c>/p2p/&lt;our id&gt;</c>.</summary>
    public Multiaddr Address(Transport transport) =>
        Services.DialableAddresses.Single(a => a.Contains(MultiaddrProtocol.Ws) == (transport == Transport.WebSocket));

    /// <summary>
    /// Opens the one connection between us and <paramref name="js"/> over <paramref name="transport"/>, dialled by
    /// <paramref name="dialer"/>, and returns our side of it once our host has registered it.
    /// </summary>
    public async Task<IConnection> ConnectAsync(JsPeer js, Transport transport, Dialer dialer, CancellationToken cancellationToken)
    {
        IConnection connection;
        if (dialer == Dialer.CSharp)
        {
            connection = await Host.ConnectAsync(Multiaddr.Parse(transport == Transport.Tcp ? js.TcpAddress : js.WsAddress), cancellationToken);
        }
        else
        {
            var dial = await js.CommandAsync("dial", new { addr = Address(transport).ToString() }, cancellationToken);
            Assert.Equal(Host.PeerId.ToString(), dial["remotePeer"]!.GetValue<string>());
            Assert.False(dial["reused"]!.GetValue<bool>());
            Assert.Equal("outbound", dial["direction"]!.GetValue<string>());
            // js reports the connection once its side is upgraded; ours registers it a moment later.
            await Wait.UntilAsync(() => Host.GetConnections(PeerIdOf(js)).Count == 1, "our host registers js's connection", cancellationToken);
            connection = Host.GetConnections(PeerIdOf(js))[0];
        }

        Assert.Equal(js.PeerId, connection.RemotePeer.ToString());
        Assert.Equal(dialer == Dialer.CSharp ? Direction.Outbound : Direction.Inbound, connection.Direction);
        Assert.Equal(transport == Transport.WebSocket, connection.RemoteAddress.Contains(MultiaddrProtocol.Ws));
        Assert.Equal("/noise", connection.Security);
        Assert.Equal("/yamux/1.0.0", connection.Muxer);
        Assert.Single(Host.GetConnections(connection.RemotePeer));
        return connection;
    }

    public static ToolNet.Protocol.Peers.PeerId PeerIdOf(JsPeer js) => ToolNet.Protocol.Peers.PeerId.Parse(js.PeerId);

    /// <summary>Streams open in the connection's Yamux session (below the host's own stream accounting).</summary>
    public static int YamuxStreamCount(IConnection connection) =>
        ((YamuxSession)((HostConnection)connection).Muxed).ActiveStreamCount;

    /// <summary>Waits until neither the host nor Yamux count any open stream on <paramref name="connection"/>.</summary>
    public static Task WaitForNoStreamsAsync(IConnection connection, CancellationToken cancellationToken) =>
        Wait.UntilAsync(
            () => connection.StreamCount == 0 && YamuxStreamCount(connection) == 0,
            () => $"the streams on {connection.Id} to close (host: {connection.StreamCount}, yamux: {YamuxStreamCount(connection)})",
            cancellationToken);

    /// <summary>Stops the node; a shutdown that hangs fails the test (TimeoutException) instead of hanging the suite.</summary>
    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        _loggerFactory.Dispose();
    }
}

/// <summary>Bounded waiting for a condition that another party makes true (no timing is asserted).</summary>
internal static class Wait
{
    public static Task UntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken) =>
        UntilAsync(condition, () => what, cancellationToken);

    public static Task UntilAsync(Func<bool> condition, Func<string> what, CancellationToken cancellationToken) =>
        UntilAsync(() => Task.FromResult(condition()), what, cancellationToken);

    public static Task UntilAsync(Func<Task<bool>> condition, string what, CancellationToken cancellationToken) =>
        UntilAsync(condition, () => what, cancellationToken);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws <see cref="TimeoutException"/> naming
    /// <paramref name="what"/> after 20 s or when <paramref name="cancellationToken"/> fires.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<string> what, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            try
            {
                await Task.Delay(20, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("timed out waiting for " + what());
            }
        }
    }

    /// <summary>A per-test deadline: every wait in a test is bounded by it.</summary>
    public static CancellationTokenSource Deadline(int seconds = 90) => new(TimeSpan.FromSeconds(seconds));
}

/// <summary>Writes the C# node's log to the test's output (shown when a test fails).</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper? output) : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new();

    public ILogger CreateLogger(string categoryName) => _loggers.GetOrAdd(categoryName, name => new Logger(output, name[(name.LastIndexOf('.') + 1)..]));

    public void Dispose()
    {
    }

    private sealed class Logger(ITestOutputHelper? output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => output is not null && logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (output is null)
            {
                return;
            }

            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}{(exception is null ? "" : " | " + exception.Message)}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished: its output is closed.
            }
        }
    }
}
