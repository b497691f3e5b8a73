using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// The host and port of an address that starts with <c>/ip4/A/tcp/P</c>, <c>/ip6/A/tcp/P</c> (optionally after
/// <c>/ip6zone/Z</c>) or <c>/dns4|dns6|dns/NAME/tcp/P</c>, and what follows them (<see cref="Remainder"/>, for example
/// <c>/ws/p2p/…</c>).
/// </summary>
internal sealed class TcpAddress
{
    private TcpAddress(IPAddress? ip, string? hostName, AddressFamily family, int port, Multiaddr remainder)
    {
        Ip = ip;
        HostName = hostName;
        Family = family;
        Port = port;
        Remainder = remainder;
    }

    /// <summary>The IP address, or null for a DNS name.</summary>
    public IPAddress? Ip { get; }

    /// <summary>The DNS name, or null for an IP address.</summary>
    public string? HostName { get; }

    /// <summary>The family to use: the IP's, InterNetwork for <c>/dns4</c>, InterNetworkV6 for <c>/dns6</c>,
    /// Unspecified (both) for <c>/dns</c>.</summary>
    public AddressFamily Family { get; }

    public int Port { get; }

    /// <summary>The components after <c>/tcp/P</c>.</summary>
    public Multiaddr Remainder { get; }

    /// <summary>The host as an HTTP <c>Host</c> header writes it: a name, an IPv4 address, or a bracketed IPv6
    /// address, with the port.</summary>
    public string Authority => Ip is null
        ? $"{HostName}:{Port}"
        : Ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{new IPAddress(Ip.GetAddressBytes())}]:{Port}" : $"{Ip}:{Port}";

    /// <summary>True when nothing follows <c>/tcp/P</c> but an optional <c>/p2p/ID</c>.</summary>
    public bool RemainderIsAtMostPeerId => IsAtMostPeerId(Remainder);

    public static bool IsAtMostPeerId(Multiaddr rest) =>
        rest.IsEmpty || (rest.Components.Length == 1 && rest.Components[0].Protocol == MultiaddrProtocol.P2p);

    public static bool TryParse(Multiaddr address, [NotNullWhen(true)] out TcpAddress? result)
    {
        ArgumentNullException.ThrowIfNull(address);
        result = null;
        if (address.TryGetIPEndPoint(MultiaddrProtocol.Tcp, out var endPoint, out var remainder))
        {
            result = new TcpAddress(endPoint.Address, null, endPoint.AddressFamily, endPoint.Port, remainder);
            return true;
        }

        var components = address.Components;
        if (components.Length < 2 || components[1].Protocol != MultiaddrProtocol.Tcp)
        {
            return false;
        }

        AddressFamily family;
        if (components[0].Protocol == MultiaddrProtocol.Dns4)
        {
            family = AddressFamily.InterNetwork;
        }
        else if (components[0].Protocol == MultiaddrProtocol.Dns6)
        {
            family = AddressFamily.InterNetworkV6;
        }
        else if (components[0].Protocol == MultiaddrProtocol.Dns)
        {
            family = AddressFamily.Unspecified;
        }
        else
        {
            return false;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(components[1].Value.Span);
        result = new TcpAddress(null, components[0].ValueText, family, port, Multiaddr.Create(components.AsSpan()[2..]));
        return true;
    }

    /// <summary>The IP addresses to try, in order: the IP itself, or the name resolved and filtered to
    /// <see cref="Family"/>.</summary>
    /// <exception cref="SocketException">The name does not resolve (to an address of the wanted family).</exception>
    public async ValueTask<IPAddress[]> ResolveAsync(CancellationToken cancellationToken)
    {
        if (Ip is not null)
        {
            return [Ip];
        }

        var addresses = await Dns.GetHostAddressesAsync(HostName!, Family, cancellationToken).ConfigureAwait(false);
        var usable = Array.FindAll(addresses, a => Family == AddressFamily.Unspecified
            ? a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6
            : a.AddressFamily == Family);
        return usable.Length > 0 ? usable : throw new SocketException((int)SocketError.HostNotFound);
    }
}
