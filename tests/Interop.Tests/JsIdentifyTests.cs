using System.Text.Json.Nodes;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Identify;
using ToolNet.Protocol.Records;
using Xunit.Abstractions;

namespace ToolNet.Interop.Tests;

/// <summary>Identify between our node and js-libp2p: what each side learns about the other, on every transport,
/// whoever dials.</summary>
public sealed class JsIdentifyTests(JsPeerFixture fixture, ITestOutputHelper output) : JsInteropTest(fixture, output)
{
    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public Task Js_identifies_us_with_every_field_and_a_verified_signed_record(Transport transport, Dialer dialer) =>
        RunAsync(transport, dialer, async session =>
        {
            var (node, connection, deadline) = (session.Node, session.Connection, session.Token);
            var identify = await Js.CommandAsync("identify", new { peerId = node.Host.PeerId.ToString() }, deadline);

            Assert.Equal(node.Host.PeerId.ToString(), Text(identify["peerId"]));
            Assert.StartsWith("toolnet/", Text(identify["agentVersion"]), StringComparison.Ordinal);
            Assert.Equal(IdentifyOptions.Default.AgentVersion, Text(identify["agentVersion"]));
            Assert.Equal(IdentifyOptions.Default.ProtocolVersion, Text(identify["protocolVersion"]));
            Assert.Equal(node.Host.Protocols.Order(StringComparer.Ordinal), Strings(identify["protocols"]));
            Assert.Superset(
                new HashSet<string> { "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0", "/echo/1.0.0", "/perf/1.0.0" },
                Strings(identify["protocols"]).ToHashSet());
            var ourAddresses = node.Host.ListenAddresses.Select(a => a.ToString()).Order().ToArray();
            Assert.Equal(ourAddresses, Strings(identify["listenAddrs"]).Order());

            // What we told js about its own address: the remote end of our connection.
            Assert.Equal(connection.RemoteAddress, WithoutPeerId(identify["observedAddr"]));

            var record = identify["signedPeerRecord"]!;
            Assert.True(record["present"]!.GetValue<bool>());
            Assert.True(record["verified"]!.GetValue<bool>());
            Assert.Equal(ourAddresses, Strings(record["addrs"]).Order());
            var (_, sent) = PeerRecord.ConsumeEnvelope(node.Services.Identify.CreateMessage(connection).SignedPeerRecord!);
            Assert.Equal(sent.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(record["seq"]));

            // js kept our signed record and certified the addresses in it.
            var store = identify["peerStore"]!;
            Assert.True(store["hasPeerRecordEnvelope"]!.GetValue<bool>());
            Assert.Equal(Text(identify["agentVersion"]), Text(store["agentVersion"]));
            var certified = store["addresses"]!.AsArray().Where(a => a!["certified"]!.GetValue<bool>()).Select(a => Text(a!["addr"])).Order();
            Assert.Equal(ourAddresses, certified);

            // The automatic identify js ran when the connection opened reported the same.
            var automatic = await Js.WaitForEventAsync(
                e => Text(e["event"]) == "peer:identify" && Text(e["peerId"]) == node.Host.PeerId.ToString(), deadline);
            Assert.Equal(Text(identify["agentVersion"]), Text(automatic["agentVersion"]));
            Assert.True(automatic["signedPeerRecord"]!["present"]!.GetValue<bool>());
        });

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public Task We_identify_js_with_every_field_and_a_verified_signed_record(Transport transport, Dialer dialer) =>
        RunAsync(transport, dialer, async session =>
        {
            var (node, connection, deadline) = (session.Node, session.Connection, session.Token);
            var result = await node.Services.Identify.IdentifyAsync(connection, deadline);

            Assert.Equal(Js.PeerId, result.Peer.ToString());
            Assert.NotNull(result.PublicKey);
            Assert.True(result.Peer.Matches(result.PublicKey));
            Assert.StartsWith("js-libp2p/", result.AgentVersion, StringComparison.Ordinal);
            Assert.Equal("ipfs/0.1.0", result.ProtocolVersion);
            Assert.Equal(Js.Protocols.Order(StringComparer.Ordinal), result.Protocols.Order(StringComparer.Ordinal));
            Assert.Superset(
                new HashSet<string> { "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/echo/1.0.0", "/perf/1.0.0" },
                result.Protocols.ToHashSet());

            var jsAddresses = Js.Addresses.Select(a => Multiaddr.Parse(a).WithoutPeerId().ToString()).Order().ToArray();
            Assert.Equal(jsAddresses, result.ListenAddresses.Select(a => a.ToString()).Order());
            Assert.NotNull(result.SignedPeerRecord);
            Assert.NotNull(result.SignedPeerRecordEnvelope);
            Assert.Equal(Js.PeerId, result.SignedPeerRecord.PeerId.ToString());
            Assert.True(result.SignedPeerRecord.Seq > 0);
            Assert.Equal(jsAddresses, result.SignedPeerRecord.Addresses.Select(a => a.ToString()).Order());

            // js reports as our address the remote end of its connection.
            var jsView = await Js.CommandAsync("dial", new { peerId = node.Host.PeerId.ToString() }, deadline);
            Assert.True(jsView["reused"]!.GetValue<bool>());
            Assert.NotNull(result.ObservedAddress);
            Assert.Equal(WithoutPeerId(jsView["remoteAddr"]), result.ObservedAddress.WithoutPeerId());
            if (dialer == Dialer.CSharp && transport == Transport.Tcp)
            {
                Assert.Equal(connection.LocalAddress, result.ObservedAddress.WithoutPeerId());
            }

            // The identify our node ran on connect put the same into the peer store.
            await Wait.UntilAsync(
                () => node.Host.PeerStore.GetProtocols(result.Peer).Count > 0, "identify-on-connect to fill the peer store", deadline);
            Assert.Equal(result.Protocols.Order(StringComparer.Ordinal), node.Host.PeerStore.GetProtocols(result.Peer).Order(StringComparer.Ordinal));
            Assert.Superset(jsAddresses.ToHashSet(), node.Host.PeerStore.GetAddresses(result.Peer).Select(a => a.ToString()).ToHashSet());
        });

    [Theory]
    [MemberData(nameof(InteropCases.TransportsAndDialers), MemberType = typeof(InteropCases))]
    public Task Js_takes_our_identify_push_with_a_newer_signed_record(Transport transport, Dialer dialer) =>
        RunAsync(transport, dialer, async session =>
        {
            var (node, deadline) = (session.Node, session.Token);
            var before = await Js.CommandAsync("identify", new { peerId = session.PeerId }, deadline);
            var seqBefore = ulong.Parse(Text(before["signedPeerRecord"]!["seq"])!, System.Globalization.CultureInfo.InvariantCulture);

            // Our node pushes by itself when the host reports the changes (possibly as two pushes, if the listener
            // took longer to open than the push delay): wait for the push that carries both.
            const string NewProtocol = "/toolnet/interop-push/1.0.0";
            node.Host.SetStreamHandler(NewProtocol, (_, _) => Task.CompletedTask);
            var newAddress = await node.Host.ListenAsync(Multiaddr.Parse("/ip4/127.0.0.1/tcp/0"), deadline);

            var pushed = await Js.WaitForEventAsync(
                e => Text(e["event"]) == "peer:identify" && Text(e["peerId"]) == session.PeerId
                    && Strings(e["protocols"]).Contains(NewProtocol) && Strings(e["listenAddrs"]).Contains(newAddress.ToString()),
                deadline);
            Assert.Equal(session.JsConnectionId, Text(pushed["connectionId"]));
            Assert.Contains(newAddress.ToString(), Strings(pushed["listenAddrs"]));
            var record = pushed["signedPeerRecord"]!;
            Assert.True(record["present"]!.GetValue<bool>());
            Assert.Contains(newAddress.ToString(), Strings(record["addrs"]));
            Assert.True(ulong.Parse(Text(record["seq"])!, System.Globalization.CultureInfo.InvariantCulture) > seqBefore);

            // js's peer store now holds the new record and protocol.
            var after = await Js.CommandAsync("identify", new { peerId = session.PeerId }, deadline);
            Assert.Contains(NewProtocol, Strings(after["peerStore"]!["protocols"]));
            Assert.Contains(
                after["peerStore"]!["addresses"]!.AsArray(),
                a => Text(a!["addr"]) == newAddress.ToString() && a!["certified"]!.GetValue<bool>());
        });

    private static string? Text(JsonNode? node) => node?.GetValue<string>();

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => n!.GetValue<string>())];

    private static Multiaddr WithoutPeerId(JsonNode? node) => Multiaddr.Parse(Text(node)!).WithoutPeerId();
}
