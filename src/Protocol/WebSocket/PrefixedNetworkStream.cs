using System.Net.Sockets;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// A <see cref="NetworkStream"/> owning its socket that first returns bytes already read from it: what arrived in
/// the same reads as the end of the HTTP handshake head (the first WebSocket frames).
/// </summary>
internal sealed class PrefixedNetworkStream(Socket socket, byte[] prefix) : NetworkStream(socket, ownsSocket: true)
{
    private byte[] _prefix = prefix;
    private int _offset;

    public override int Read(Span<byte> buffer) => TryReadPrefix(buffer, out var count) ? count : base.Read(buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return Read(one) == 1 ? one[0] : -1;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        TryReadPrefix(buffer.Span, out var count) ? ValueTask.FromResult(count) : base.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override IAsyncResult BeginRead(byte[] buffer, int offset, int count, AsyncCallback? callback, object? state) =>
        TaskToAsyncResult.Begin(ReadAsync(buffer, offset, count, CancellationToken.None), callback, state);

    public override int EndRead(IAsyncResult asyncResult) => TaskToAsyncResult.End<int>(asyncResult);

    /// <summary>Copies from the prefix while any is left. A zero-byte read (waiting for data) completes at once then.</summary>
    private bool TryReadPrefix(Span<byte> buffer, out int count)
    {
        count = 0;
        if (_offset == _prefix.Length)
        {
            return false;
        }

        count = Math.Min(buffer.Length, _prefix.Length - _offset);
        _prefix.AsSpan(_offset, count).CopyTo(buffer);
        _offset += count;
        if (_offset == _prefix.Length)
        {
            _prefix = [];
            _offset = 0;
        }

        return true;
    }
}
