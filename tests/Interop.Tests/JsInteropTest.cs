using System.Text.Json.Nodes;
using ToolNet.Protocol.Core;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>One test's connection between a fresh node of ours and the class's shared js peer.</summary>
/// <param name="Node">Our node, with a fresh identity: js holds no other connection to it.</param>
/// <param name="Connection">Our side of the connection.</param>
/// <param name="JsConnectionId">js's id of the same connection.</param>
/// <param name="Token">The test's deadline.</param>
internal sealed record InteropSession(CSharpNode Node, IConnection Connection, string JsConnectionId, CancellationToken Token)
{
    public string PeerId => Node.Host.PeerId.ToString();
}

/// <summary>
/// Base of the tests against js-libp2p: one js peer per test class, and for every test a fresh node of ours connected
/// to it over the transport and from the side the test names. Every test fails on any js `error` event.
/// </summary>
public abstract class JsInteropTest(JsPeerFixture fixture, ITestOutputHelper output) : IClassFixture<JsPeerFixture>
{
    private protected JsPeer Js => fixture.Js;

    private protected ITestOutputHelper Output => output;

    /// <summary>
    /// Connects a fresh node to js, runs <paramref name="body"/>, then checks that js reported no error and, unless
    /// the test closes it (<paramref name="keepsConnection"/> false), that everything ran on that one connection and
    /// no stream is left open on our side.
    /// </summary>
    private protected async Task RunAsync(Transport transport, Dialer dialer, Func<InteropSession, Task> body, bool keepsConnection = true)
    {
        using var deadline = Wait.Deadline(120);
        var errorsBefore = Js.Errors.Count;
        await using var node = await CSharpNode.StartAsync(output, deadline.Token);
        var connection = await node.ConnectAsync(Js, transport, dialer, deadline.Token);
        var jsConnection = await JsConnectionAsync(node.Host.PeerId.ToString(), deadline.Token);
        Assert.NotNull(jsConnection);
        var session = new InteropSession(node, connection, jsConnection["connectionId"]!.GetValue<string>(), deadline.Token);

        await body(session);

        if (keepsConnection)
        {
            Assert.Same(connection, Assert.Single(node.Host.GetConnections()));
            Assert.Equal(session.JsConnectionId, (await JsConnectionAsync(session.PeerId, deadline.Token))?["connectionId"]?.GetValue<string>());
            await CSharpNode.WaitForNoStreamsAsync(connection, deadline.Token);
        }

        Assert.Empty(Js.Errors.Skip(errorsBefore));
    }

    /// <summary>js's one open connection to <paramref name="peerId"/> as its `connections` command describes it, or null.</summary>
    private protected async Task<JsonObject?> JsConnectionAsync(string peerId, CancellationToken cancellationToken)
    {
        var all = (await Js.CommandAsync("connections", null, cancellationToken))["connections"]!.AsArray();
        var ours = all.Where(c => c!["peerId"]!.GetValue<string>() == peerId).ToList();
        Assert.True(ours.Count <= 1, "js holds more than one connection to us: " + all.ToJsonString());
        return ours.SingleOrDefault()?.AsObject();
    }
}
