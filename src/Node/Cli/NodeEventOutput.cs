using ToolNet.Node.Runtime;

namespace ToolNet.Node.Cli;

/// <summary>The lines <c>toolnet node</c> prints for node events: one JSON object per event with <c>--json</c>
/// (<c>{"event":"reservation",…}</c>, formats in spec/nat.md), a sentence otherwise.</summary>
internal static class NodeEventOutput
{
    public static void Write(CommandOutput output, NodeEvent nodeEvent)
    {
        switch (nodeEvent)
        {
            case ReachabilityChanged e:
                var reachability = e.Reachability.ToString().ToLowerInvariant();
                output.Write(new { @event = "reachability", reachability }, $"reachability: {reachability}");
                break;
            case ReservationMade e:
                output.Write(
                    new { @event = "reservation", relay = e.Relay.ToString(), addrs = e.Addresses.Select(a => a.ToString()).ToArray(), expires = e.Expires.ToUnixTimeSeconds() },
                    $"reservation on {e.Relay} until {e.Expires:u}: " + string.Join(' ', e.Addresses));
                break;
            case ReservationLost e:
                output.Write(new { @event = "reservationLost", relay = e.Relay.ToString(), reason = e.Reason }, $"reservation on {e.Relay} lost: {e.Reason}");
                break;
            case ConnectionOpened e:
                output.Write(
                    new { @event = "connection", peer = e.Peer.ToString(), addr = e.Address.ToString(), relayed = e.Relayed },
                    $"connected to {e.Peer} at {e.Address}{(e.Relayed ? " (relayed)" : string.Empty)}");
                break;
            case HolePunchFinished e:
                output.Write(
                    new { @event = "holepunch", peer = e.Peer.ToString(), ok = e.Succeeded, addr = e.Address?.ToString(), attempts = e.Attempts },
                    $"hole punch with {e.Peer} {(e.Succeeded ? "succeeded at " + e.Address : "failed")} after {e.Attempts} attempt(s)");
                break;
        }
    }
}
