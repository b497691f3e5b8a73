using System.Text;
using ToolNet.Protocol.Multiformats;

namespace ToolNet.Protocol.Addressing;

/// <summary>
/// One component of a <see cref="Multiaddr"/>: a protocol and its value, such as <c>/tcp/443</c>. Binary form:
/// the protocol code as an unsigned varint, then the value (fixed size, varint length-prefixed, or nothing).
/// Immutable; equality compares the binary form.
/// </summary>
public sealed class MultiaddrComponent : IEquatable<MultiaddrComponent>
{
    private readonly ReadOnlyMemory<byte> _encoded;
    private readonly int _valueOffset;
    private string? _valueText;

    private MultiaddrComponent(MultiaddrProtocol protocol, ReadOnlyMemory<byte> encoded, int valueOffset)
    {
        Protocol = protocol;
        _encoded = encoded;
        _valueOffset = valueOffset;
    }

    /// <summary>The component's protocol.</summary>
    public MultiaddrProtocol Protocol { get; }

    /// <summary>The raw value bytes, without code or length prefix (empty when the protocol has no value).</summary>
    public ReadOnlyMemory<byte> Value => _encoded[_valueOffset..];

    /// <summary>The whole binary form: code varint, length prefix if any, value.</summary>
    public ReadOnlyMemory<byte> Encoded => _encoded;

    /// <summary>The value in canonical text form (empty when the protocol has no value). For a path protocol it
    /// starts with <c>/</c>.</summary>
    public string ValueText => _valueText ??= Protocol.Codec?.Format(Value.Span) ?? string.Empty;

    /// <summary>A component of a protocol that carries no value.</summary>
    /// <exception cref="ArgumentException">The protocol needs a value.</exception>
    public static MultiaddrComponent Create(MultiaddrProtocol protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        if (protocol.HasValue)
        {
            throw new ArgumentException($"/{protocol.Name} needs a value", nameof(protocol));
        }

        return Build(protocol, []);
    }

    /// <summary>A component from a binary value (for <c>/p2p</c>, the peer id's multihash bytes).</summary>
    /// <exception cref="WireFormatException">The value is not valid for the protocol.</exception>
    public static MultiaddrComponent Create(MultiaddrProtocol protocol, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        CheckValue(protocol, value);
        return Build(protocol, value);
    }

    /// <summary>A component from the text form of its value, such as <c>"443"</c> for <see cref="MultiaddrProtocol.Tcp"/>
    /// (the empty string for a protocol without a value).</summary>
    /// <exception cref="WireFormatException">The text is not a valid value for the protocol.</exception>
    public static MultiaddrComponent Parse(MultiaddrProtocol protocol, string valueText)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        ArgumentNullException.ThrowIfNull(valueText);
        return Parse(protocol, valueText.AsSpan());
    }

    /// <summary>Parses a value, leaving context for the caller's error message.</summary>
    internal static MultiaddrComponent Parse(MultiaddrProtocol protocol, ReadOnlySpan<char> valueText)
    {
        if (protocol.Codec is null)
        {
            return valueText.IsEmpty ? Build(protocol, []) : throw new WireFormatException($"/{protocol.Name} takes no value");
        }

        if (valueText.IsEmpty)
        {
            throw new WireFormatException($"/{protocol.Name} needs a value");
        }

        var value = protocol.Codec.Parse(valueText);
        CheckValue(protocol, value);
        return Build(protocol, value);
    }

    /// <summary>Reads one component from <paramref name="source"/> at <paramref name="offset"/>, referencing the
    /// bytes rather than copying them.</summary>
    /// <exception cref="WireFormatException">Truncated, an unknown protocol code, or an invalid value.</exception>
    internal static MultiaddrComponent Read(ReadOnlyMemory<byte> source, int offset, out int length)
    {
        var span = source.Span[offset..];
        ulong code;
        int codeLength;
        try
        {
            code = Varint.Read(span, out codeLength);
        }
        catch (WireFormatException e)
        {
            throw new WireFormatException($"bad protocol code at byte {offset}: {e.Message}", e);
        }

        if (!MultiaddrProtocol.TryGetByCode(code, out var protocol))
        {
            throw new WireFormatException($"unknown multiaddr protocol code {code} (0x{code:x}) at byte {offset}");
        }

        var valueOffset = codeLength;
        ulong valueLength;
        switch (protocol.Layout)
        {
            case MultiaddrValueLayout.None:
                valueLength = 0;
                break;
            case MultiaddrValueLayout.Fixed:
                valueLength = (ulong)protocol.FixedValueLength;
                break;
            default:
                try
                {
                    valueLength = Varint.Read(span[codeLength..], out var prefixLength);
                    valueOffset += prefixLength;
                }
                catch (WireFormatException e)
                {
                    throw new WireFormatException($"bad /{protocol.Name} value length at byte {offset + codeLength}: {e.Message}", e);
                }

                break;
        }

        if (valueLength > (ulong)(span.Length - valueOffset))
        {
            throw new WireFormatException(
                $"/{protocol.Name} at byte {offset} needs {valueLength} value bytes but {span.Length - valueOffset} remain");
        }

        length = valueOffset + (int)valueLength;
        try
        {
            protocol.Codec?.Validate(span.Slice(valueOffset, (int)valueLength));
        }
        catch (WireFormatException e)
        {
            throw new WireFormatException($"invalid /{protocol.Name} value at byte {offset + valueOffset}: {e.Message}", e);
        }

        return new MultiaddrComponent(protocol, source.Slice(offset, length), valueOffset);
    }

    /// <summary>Writes the text form, <c>/name/value</c>.</summary>
    internal void AppendTo(StringBuilder text)
    {
        text.Append('/').Append(Protocol.Name);
        if (Protocol.HasValue)
        {
            if (!Protocol.IsPath)
            {
                text.Append('/');
            }

            text.Append(ValueText);
        }
    }

    /// <summary>The text form, <c>/name/value</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        AppendTo(text);
        return text.ToString();
    }

    public bool Equals(MultiaddrComponent? other) => other is not null && _encoded.Span.SequenceEqual(other._encoded.Span);

    public override bool Equals(object? obj) => Equals(obj as MultiaddrComponent);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_encoded.Span);
        return hash.ToHashCode();
    }

    private static void CheckValue(MultiaddrProtocol protocol, ReadOnlySpan<byte> value)
    {
        switch (protocol.Layout)
        {
            case MultiaddrValueLayout.None when !value.IsEmpty:
                throw new WireFormatException($"/{protocol.Name} takes no value");
            case MultiaddrValueLayout.Fixed when value.Length != protocol.FixedValueLength:
                throw new WireFormatException($"/{protocol.Name} value must be {protocol.FixedValueLength} bytes, not {value.Length}");
            case MultiaddrValueLayout.LengthPrefixed when value.Length > Multiaddr.MaxEncodedLength:
                throw new WireFormatException($"/{protocol.Name} value is {value.Length} bytes, longer than a whole multiaddr may be");
        }

        protocol.Codec?.Validate(value);
    }

    private static MultiaddrComponent Build(MultiaddrProtocol protocol, ReadOnlySpan<byte> value)
    {
        var code = (ulong)protocol.Code;
        var prefixed = protocol.Layout == MultiaddrValueLayout.LengthPrefixed;
        var valueOffset = Varint.SizeOf(code) + (prefixed ? Varint.SizeOf((ulong)value.Length) : 0);
        var encoded = new byte[valueOffset + value.Length];
        var written = Varint.Write(encoded, code);
        if (prefixed)
        {
            Varint.Write(encoded.AsSpan(written), (ulong)value.Length);
        }

        value.CopyTo(encoded.AsSpan(valueOffset));
        return new MultiaddrComponent(protocol, encoded, valueOffset);
    }
}
