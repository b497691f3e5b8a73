using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// A multiaddr: a self-describing, composable network address such as
/// <c>/ip4/192.0.2.42/tcp/443/p2p/12D3KooW…</c> (multiformats/multiaddr README, "Specification").
/// The binary form is the concatenation of its components' binary forms; the text form is the concatenation of
/// their <c>/name/value</c> texts. Immutable; equality compares the binary form.
/// </summary>
/// <remarks>
/// Bounds: <see cref="Decode"/> accepts at most <see cref="MaxEncodedLength"/> bytes and <see cref="Parse"/> at most
/// <see cref="MaxTextLength"/> characters; every multiaddr ToolNet builds stays within <see cref="MaxEncodedLength"/>,
/// so every one of them round-trips through both forms. Malformed input of either form throws
/// <see cref="WireFormatException"/> saying what was wrong and where.
/// </remarks>
public sealed partial class Multiaddr : IEquatable<Multiaddr>
{
    /// <summary>The largest binary form accepted: 1 KiB. Real addresses are far smaller (a relayed WebTransport
    /// address with two certhashes and two peer ids is about 200 bytes); the largest common component, an I2P
    /// destination, is under 500.</summary>
    public const int MaxEncodedLength = 1024;

    /// <summary>The longest text form accepted: 10 KiB. The most text a byte of binary form can need is 9.5
    /// characters (<c>/p2p-websocket-star</c> from two bytes), so every multiaddr within
    /// <see cref="MaxEncodedLength"/> has a text form within this.</summary>
    public const int MaxTextLength = 10 * 1024;

    private readonly byte[] _bytes;
    private readonly ImmutableArray<MultiaddrComponent> _components;
    private string? _text;

    private Multiaddr(byte[] bytes, ImmutableArray<MultiaddrComponent> components)
    {
        _bytes = bytes;
        _components = components;
    }

    /// <summary>The multiaddr with no components: what <see cref="Decapsulate(Multiaddr)"/> leaves when it removes
    /// everything. Its text form is the empty string; <see cref="Parse"/> and <see cref="Decode"/> never return it.</summary>
    public static Multiaddr Empty { get; } = new([], []);

    /// <summary>The components in order, outermost first.</summary>
    public ImmutableArray<MultiaddrComponent> Components => _components;

    /// <summary>True for <see cref="Empty"/>.</summary>
    public bool IsEmpty => _bytes.Length == 0;

    /// <summary>The size of the binary form in bytes.</summary>
    public int EncodedLength => _bytes.Length;

    /// <summary>Parses the text form, e.g. <c>/ip4/127.0.0.1/tcp/4001</c>. A trailing <c>/</c> is ignored and
    /// <c>/ipfs/</c> is read as <c>/p2p/</c>, as go-multiaddr does.</summary>
    /// <exception cref="WireFormatException">The text is not a valid multiaddr; the message says what and where.</exception>
    public static Multiaddr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxTextLength)
        {
            throw new WireFormatException($"multiaddr text is {text.Length} characters, over the {MaxTextLength} limit");
        }

        if (text.Length == 0 || text[0] != '/')
        {
            throw new WireFormatException("multiaddr text must begin with '/'");
        }

        var end = text.AsSpan().TrimEnd('/').Length;
        if (end == 0)
        {
            throw new WireFormatException("multiaddr text has no components");
        }

        var components = ImmutableArray.CreateBuilder<MultiaddrComponent>();
        var length = 0;
        var position = 1;
        while (position < end)
        {
            var nameEnd = SegmentEnd(text, position, end);
            var name = text.AsSpan(position, nameEnd - position);
            if (!MultiaddrProtocol.TryGetByName(name, out var protocol))
            {
                throw new WireFormatException($"unknown multiaddr protocol '{MultiaddrText.Shorten(name)}' at character {position}");
            }

            MultiaddrComponent component;
            if (!protocol.HasValue)
            {
                component = MultiaddrComponent.Create(protocol);
                position = nameEnd + 1;
            }
            else
            {
                if (nameEnd == end)
                {
                    throw new WireFormatException($"/{protocol.Name} at character {position - 1} needs a value");
                }

                // A path protocol's value is the rest of the text, starting with its '/'.
                var valueStart = protocol.IsPath ? nameEnd : nameEnd + 1;
                var valueEnd = protocol.IsPath ? end : SegmentEnd(text, valueStart, end);
                var value = text.AsSpan(valueStart, valueEnd - valueStart);
                try
                {
                    component = MultiaddrComponent.Parse(protocol, value);
                }
                catch (WireFormatException e)
                {
                    throw new WireFormatException(
                        $"invalid /{protocol.Name} value '{MultiaddrText.Shorten(value)}' at character {valueStart}: {e.Message}", e);
                }

                position = valueEnd + 1;
            }

            length += component.Encoded.Length;
            if (length > MaxEncodedLength)
            {
                throw new WireFormatException($"multiaddr binary form would exceed {MaxEncodedLength} bytes");
            }

            components.Add(component);
        }

        return FromComponents(components.DrainToImmutable(), length);
    }

    /// <summary>Parses the text form, returning false instead of throwing for malformed or null text.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out Multiaddr? multiaddr)
    {
        multiaddr = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            multiaddr = Parse(text);
            return true;
        }
        catch (WireFormatException)
        {
            return false;
        }
    }

    /// <summary>Decodes the binary form, which must fill <paramref name="data"/> exactly.</summary>
    /// <exception cref="WireFormatException">Empty, longer than <see cref="MaxEncodedLength"/>, truncated, an unknown
    /// protocol code, an invalid value, or a path protocol (<c>/unix</c>) before the end, which the text form could
    /// not express; the message names the byte offset.</exception>
    public static Multiaddr Decode(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            throw new WireFormatException("multiaddr is empty");
        }

        if (data.Length > MaxEncodedLength)
        {
            throw new WireFormatException($"multiaddr is {data.Length} bytes, over the {MaxEncodedLength}-byte limit");
        }

        var bytes = data.ToArray();
        var components = ImmutableArray.CreateBuilder<MultiaddrComponent>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var component = MultiaddrComponent.Read(bytes, offset, out var length);
            offset += length;
            if (component.Protocol.IsPath && offset < bytes.Length)
            {
                throw new WireFormatException($"/{component.Protocol.Name} at byte {offset - length} is a path protocol and must be the last component");
            }

            components.Add(component);
        }

        return new Multiaddr(bytes, components.DrainToImmutable());
    }

    /// <summary>Decodes the binary form, returning false instead of throwing for malformed bytes.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out Multiaddr? multiaddr)
    {
        try
        {
            multiaddr = Decode(data);
            return true;
        }
        catch (WireFormatException)
        {
            multiaddr = null;
            return false;
        }
    }

    /// <summary>A multiaddr of the given components, in order.</summary>
    /// <exception cref="ArgumentException">The binary form would exceed <see cref="MaxEncodedLength"/>, or a path
    /// protocol (<c>/unix</c>) is not last.</exception>
    public static Multiaddr Create(params ReadOnlySpan<MultiaddrComponent> components)
    {
        var length = 0;
        for (var i = 0; i < components.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(components[i], nameof(components));
            length += components[i].Encoded.Length;
            if (components[i].Protocol.IsPath && i < components.Length - 1)
            {
                throw new ArgumentException(PathNotLast(components[i].Protocol), nameof(components));
            }
        }

        CheckLength(length);
        return FromComponents([.. components], length);
    }

    /// <summary>The binary form in a new array.</summary>
    public byte[] ToBytes() => (byte[])_bytes.Clone();

    /// <summary>The binary form, without copying.</summary>
    public ReadOnlySpan<byte> AsSpan() => _bytes;

    /// <summary>Writes the binary form to <paramref name="writer"/>.</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(_bytes);
    }

    /// <summary>The canonical text form: <c>/p2p/</c> with a base58btc peer id, RFC 5952 IPv6, base64url certhash.</summary>
    public override string ToString()
    {
        if (_text is null)
        {
            var text = new StringBuilder(_bytes.Length * 2);
            foreach (var component in _components)
            {
                component.AppendTo(text);
            }

            _text = text.ToString();
        }

        return _text;
    }

    /// <summary>This address with <paramref name="inner"/> appended: <c>/ip4/…/tcp/…</c> + <c>/p2p/…</c>.</summary>
    /// <exception cref="ArgumentException">The binary form would exceed <see cref="MaxEncodedLength"/>, or this
    /// address ends in a path protocol (<c>/unix</c>), after which nothing can follow.</exception>
    public Multiaddr Encapsulate(Multiaddr inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner.IsEmpty)
        {
            return this;
        }

        if (IsEmpty)
        {
            return inner;
        }

        if (_components[^1].Protocol.IsPath)
        {
            throw new ArgumentException(PathNotLast(_components[^1].Protocol), nameof(inner));
        }

        CheckLength(_bytes.Length + inner._bytes.Length);
        return new Multiaddr([.. _bytes, .. inner._bytes], _components.AddRange(inner._components));
    }

    /// <summary>This address with <paramref name="component"/> appended.</summary>
    /// <exception cref="ArgumentException">The binary form would exceed <see cref="MaxEncodedLength"/>.</exception>
    public Multiaddr Encapsulate(MultiaddrComponent component) => Encapsulate(Create(component));

    /// <summary>
    /// Removes the last occurrence of <paramref name="outer"/>'s components and everything after it:
    /// <c>/ip4/1.2.3.4/tcp/80/ws</c> decapsulated by <c>/tcp/80</c> is <c>/ip4/1.2.3.4</c>. Returns this address
    /// unchanged when <paramref name="outer"/> does not occur in it (or is empty).
    /// </summary>
    public Multiaddr Decapsulate(Multiaddr outer)
    {
        ArgumentNullException.ThrowIfNull(outer);
        var count = outer._components.Length;
        if (count == 0)
        {
            return this;
        }

        for (var start = _components.Length - count; start >= 0; start--)
        {
            var match = true;
            for (var i = 0; i < count && match; i++)
            {
                match = _components[start + i].Equals(outer._components[i]);
            }

            if (match)
            {
                return Prefix(start);
            }
        }

        return this;
    }

    /// <summary>Removes the last component of <paramref name="protocol"/> and everything after it; returns this
    /// address unchanged when it has no such component.</summary>
    public Multiaddr Decapsulate(MultiaddrProtocol protocol)
    {
        var index = LastIndexOf(protocol);
        return index < 0 ? this : Prefix(index);
    }

    /// <summary>True when some component is of <paramref name="protocol"/>.</summary>
    public bool Contains(MultiaddrProtocol protocol) => LastIndexOf(protocol) >= 0;

    /// <summary>The first component of <paramref name="protocol"/>, or null.</summary>
    public MultiaddrComponent? FindFirst(MultiaddrProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        foreach (var component in _components)
        {
            if (component.Protocol == protocol)
            {
                return component;
            }
        }

        return null;
    }

    /// <summary>The last component of <paramref name="protocol"/>, or null.</summary>
    public MultiaddrComponent? FindLast(MultiaddrProtocol protocol)
    {
        var index = LastIndexOf(protocol);
        return index < 0 ? null : _components[index];
    }

    public bool Equals(Multiaddr? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Multiaddr);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    /// <summary>Binary equality.</summary>
    public static bool operator ==(Multiaddr? left, Multiaddr? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Binary inequality.</summary>
    public static bool operator !=(Multiaddr? left, Multiaddr? right) => !(left == right);

    private int LastIndexOf(MultiaddrProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        for (var i = _components.Length - 1; i >= 0; i--)
        {
            if (_components[i].Protocol == protocol)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first <paramref name="count"/> components as a multiaddr.</summary>
    private Multiaddr Prefix(int count)
    {
        if (count == _components.Length)
        {
            return this;
        }

        var length = 0;
        for (var i = 0; i < count; i++)
        {
            length += _components[i].Encoded.Length;
        }

        return count == 0 ? Empty : new Multiaddr(_bytes[..length], _components[..count]);
    }

    /// <summary>The components from <paramref name="start"/> on as a multiaddr.</summary>
    private Multiaddr Suffix(int start)
    {
        if (start == 0)
        {
            return this;
        }

        var skipped = 0;
        for (var i = 0; i < start; i++)
        {
            skipped += _components[i].Encoded.Length;
        }

        return start == _components.Length ? Empty : new Multiaddr(_bytes[skipped..], _components[start..]);
    }

    private static Multiaddr FromComponents(ImmutableArray<MultiaddrComponent> components, int length)
    {
        if (components.IsEmpty)
        {
            return Empty;
        }

        var bytes = new byte[length];
        var offset = 0;
        foreach (var component in components)
        {
            component.Encoded.Span.CopyTo(bytes.AsSpan(offset));
            offset += component.Encoded.Length;
        }

        return new Multiaddr(bytes, components);
    }

    private static void CheckLength(int length)
    {
        if (length > MaxEncodedLength)
        {
            throw new ArgumentException($"the multiaddr would be {length} bytes, over the {MaxEncodedLength}-byte limit");
        }
    }

    // The text form gives a path protocol the whole rest of the string, so nothing can follow it (go-multiaddr
    // PR #31, "Path Protocols are terminal protocols").
    private static string PathNotLast(MultiaddrProtocol protocol) =>
        $"/{protocol.Name} is a path protocol and must be the last component";

    private static int SegmentEnd(string text, int start, int end)
    {
        var slash = text.AsSpan(start, end - start).IndexOf('/');
        return slash < 0 ? end : start + slash;
    }
}
