namespace ToolNet.Protocol.Core;

/// <summary>
/// A pure codec for one protocol message type: no I/O, bounded, fuzzable. <see cref="LengthPrefixedMessages"/> frames
/// its messages with a varint length prefix on a stream, the framing most libp2p protocols share (Kademlia, AutoNAT,
/// Circuit Relay, DCUtR, identify, and ToolNet's own protocols).
/// </summary>
/// <typeparam name="TMessage">The decoded message.</typeparam>
public interface IMessageCodec<TMessage>
{
    /// <summary>The largest body (without the length prefix) this codec accepts or writes. A longer prefix is refused
    /// before the body is waited for or buffered.</summary>
    int MaxMessageLength { get; }

    /// <summary>The encoded body length of <paramref name="message"/>.</summary>
    int GetEncodedLength(TMessage message);

    /// <summary>Encodes the body into <paramref name="destination"/>, exactly <see cref="GetEncodedLength"/> bytes.</summary>
    void Encode(TMessage message, Span<byte> destination);

    /// <summary>Decodes one body.</summary>
    /// <exception cref="WireFormatException">Malformed, or over a per-field bound.</exception>
    TMessage Decode(ReadOnlySpan<byte> body);
}
