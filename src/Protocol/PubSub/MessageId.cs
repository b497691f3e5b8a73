namespace ToolNet.Protocol.PubSub;

/// <summary>
/// A message id: opaque bytes, by default the author's peer id bytes followed by the sequence number
/// (<see cref="PubSubOptions.MessageIdFunction"/>). Compared by content; the bytes are never changed after creation.
/// </summary>
public readonly struct MessageId : IEquatable<MessageId>
{
    private readonly byte[]? _bytes;
    private readonly int _hash;

    /// <summary>Wraps <paramref name="bytes"/>, which the caller must not change afterwards.</summary>
    public MessageId(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        _bytes = bytes;
        var hash = default(HashCode);
        hash.AddBytes(bytes);
        _hash = hash.ToHashCode();
    }

    /// <summary>The id's bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>The number of bytes.</summary>
    public int Length => _bytes?.Length ?? 0;

    /// <summary>The id of <paramref name="message"/> by the default rule: <c>from || seqno</c>.</summary>
    public static MessageId FromAuthorAndSeqno(PubSubMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return new MessageId([.. message.From ?? [], .. message.Seqno ?? []]);
    }

    public static bool operator ==(MessageId left, MessageId right) => left.Equals(right);

    public static bool operator !=(MessageId left, MessageId right) => !left.Equals(right);

    public bool Equals(MessageId other) => _hash == other._hash && Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is MessageId other && Equals(other);

    public override int GetHashCode() => _hash;

    /// <summary>The bytes in lower-case hex.</summary>
    public override string ToString() => Convert.ToHexStringLower(Bytes);
}
