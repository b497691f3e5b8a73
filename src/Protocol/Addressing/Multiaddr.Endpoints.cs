using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Addressing;

/// <summary>The helpers transports and the peer layer need: IP endpoints, peer ids, relaying.</summary>
public sealed partial class Multiaddr
{
    /// <summary>True when the address goes through a relay (it contains <c>/p2p-circuit</c>).</summary>
    public bool IsRelayed => Contains(MultiaddrProtocol.P2pCircuit);

    /// <summary>
    /// Gets the peer id when the address ends in <c>/p2p/&lt;id&gt;</c>. For a relayed address
    /// <c>/…/p2p/RELAY/p2p-circuit/p2p/TARGET</c> that is TARGET; an address ending in <c>/p2p-circuit</c> has none.
    /// </summary>
    public bool TryGetPeerId([NotNullWhen(true)] out PeerId? peerId)
    {
        // The value was checked with PeerId's own rules when the component was made, so this cannot throw.
        peerId = EndsWithPeerId ? PeerId.FromBytes(_components[^1].Value.Span) : null;
        return peerId is not null;
    }

    /// <summary>The address without its trailing <c>/p2p/&lt;id&gt;</c>, or this address when it has none.</summary>
    public Multiaddr WithoutPeerId() => EndsWithPeerId ? Prefix(_components.Length - 1) : this;

    /// <summary>This address ending in <c>/p2p/<paramref name="peerId"/></c>: this address itself when it already
    /// does, otherwise the address with the component appended.</summary>
    /// <exception cref="ArgumentException">The address already ends in a different peer id, or in a path protocol.</exception>
    public Multiaddr WithPeerId(PeerId peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        if (TryGetPeerId(out var existing))
        {
            return existing == peerId
                ? this
                : throw new ArgumentException($"{this} already names peer {existing}, not {peerId}", nameof(peerId));
        }

        return Encapsulate(MultiaddrComponent.Create(MultiaddrProtocol.P2p, peerId.Bytes));
    }

    private bool EndsWithPeerId => !_components.IsEmpty && _components[^1].Protocol == MultiaddrProtocol.P2p;

    /// <summary>
    /// Reads the IP endpoint the address starts with: <c>/ip4/A/<paramref name="transport"/>/P</c>,
    /// <c>/ip6/A/…/P</c>, or <c>/ip6zone/Z/ip6/A/…/P</c> with a numeric zone (the scope id). <paramref name="remainder"/>
    /// is what follows (for example <c>/ws/p2p/…</c>), so a transport can check it supports the rest.
    /// </summary>
    /// <param name="transport">The port protocol expected after the IP address: tcp, udp, sctp or dccp.</param>
    /// <exception cref="ArgumentException"><paramref name="transport"/> does not carry a port.</exception>
    public bool TryGetIPEndPoint(
        MultiaddrProtocol transport,
        [NotNullWhen(true)] out IPEndPoint? endPoint,
        [NotNullWhen(true)] out Multiaddr? remainder)
    {
        RequirePort(transport);
        endPoint = null;
        remainder = null;
        var index = 0;
        long scopeId = 0;
        if (_components.Length > 0 && _components[0].Protocol == MultiaddrProtocol.Ip6Zone)
        {
            if (!uint.TryParse(_components[0].ValueText, NumberStyles.None, CultureInfo.InvariantCulture, out var zone))
            {
                return false;
            }

            scopeId = zone;
            index = 1;
        }

        if (_components.Length < index + 2 || _components[index + 1].Protocol != transport)
        {
            return false;
        }

        var ip = _components[index];
        IPAddress address;
        if (ip.Protocol == MultiaddrProtocol.Ip6)
        {
            address = new IPAddress(ip.Value.Span, scopeId);
        }
        else if (ip.Protocol == MultiaddrProtocol.Ip4 && index == 0)
        {
            address = new IPAddress(ip.Value.Span);
        }
        else
        {
            return false;
        }

        endPoint = new IPEndPoint(address, BinaryPrimitives.ReadUInt16BigEndian(_components[index + 1].Value.Span));
        remainder = Suffix(index + 2);
        return true;
    }

    /// <summary><c>/ip4/A/tcp/P</c> or <c>/ip6/A/tcp/P</c> for <paramref name="endPoint"/>.</summary>
    public static Multiaddr FromIPEndPoint(IPEndPoint endPoint) => FromIPEndPoint(endPoint, MultiaddrProtocol.Tcp);

    /// <summary>
    /// <c>/ip4/A/<paramref name="transport"/>/P</c> or <c>/ip6/A/…/P</c> for <paramref name="endPoint"/>. An
    /// IPv4-mapped IPv6 address (what a dual-mode socket reports) becomes <c>/ip4</c>; an IPv6 scope id becomes a
    /// leading <c>/ip6zone</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6, or <paramref name="transport"/>
    /// does not carry a port.</exception>
    public static Multiaddr FromIPEndPoint(IPEndPoint endPoint, MultiaddrProtocol transport)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        RequirePort(transport);
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        Span<byte> port = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(port, (ushort)endPoint.Port);
        var portComponent = MultiaddrComponent.Create(transport, port);
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                return Create(MultiaddrComponent.Create(MultiaddrProtocol.Ip4, address.GetAddressBytes()), portComponent);
            case AddressFamily.InterNetworkV6:
                var ip6 = MultiaddrComponent.Create(MultiaddrProtocol.Ip6, address.GetAddressBytes());
                if (address.ScopeId == 0)
                {
                    return Create(ip6, portComponent);
                }

                var zone = MultiaddrComponent.Parse(MultiaddrProtocol.Ip6Zone, address.ScopeId.ToString(CultureInfo.InvariantCulture));
                return Create(zone, ip6, portComponent);
            default:
                throw new ArgumentException($"{address.AddressFamily} is not an IP address family", nameof(endPoint));
        }
    }

    private static void RequirePort(MultiaddrProtocol transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (!transport.IsPort)
        {
            throw new ArgumentException($"/{transport.Name} does not carry a port", nameof(transport));
        }
    }
}
