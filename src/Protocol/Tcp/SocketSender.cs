using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace ToolNet.Protocol.Tcp;

/// <summary>
/// A reusable gathering send: one <c>sendmsg</c> for several segments of a <see cref="ReadOnlySequence{T}"/>, with
/// no copy and no allocation per send (the awaitable is this object). Kestrel's <c>SocketSender</c> idea.
/// </summary>
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private readonly List<ArraySegment<byte>> _segments = [];
    private ManualResetValueTaskSourceCore<int> _source;

    public SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>The most segments gathered into one send. .NET on Unix builds the I/O vector for up to 8 buffers on
    /// the stack and allocates arrays for more, so larger sequences go out 8 segments (32 KiB of pipe blocks) at a
    /// time.</summary>
    public const int MaxSegmentsPerSend = 8;

    /// <summary>Sends the first segments of <paramref name="buffer"/> (up to <see cref="MaxSegmentsPerSend"/>) as one
    /// gathered write when they are array-backed; returns false (sending nothing) when one is not.</summary>
    public bool TrySend(Socket socket, in ReadOnlySequence<byte> buffer, out ValueTask<int> sent)
    {
        sent = default;
        _segments.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                _segments.Clear();
                return false;
            }

            _segments.Add(array);
            if (_segments.Count == MaxSegmentsPerSend)
            {
                break;
            }
        }

        BufferList = _segments;
        _source.Reset();
        if (socket.SendAsync(this))
        {
            sent = new ValueTask<int>(this, _source.Version);
            return true;
        }

        sent = SocketError == SocketError.Success
            ? new ValueTask<int>(BytesTransferred)
            : ValueTask.FromException<int>(new SocketException((int)SocketError));
        return true;
    }

    /// <summary>Drops the references to the sent buffers before the sender goes back to its pool.</summary>
    public void Clear()
    {
        BufferList = null;
        _segments.Clear();
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _source.SetResult(BytesTransferred);
        }
        else
        {
            _source.SetException(new SocketException((int)SocketError));
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}

/// <summary>Idle <see cref="SocketSender"/>s shared by the connections of one transport, so an idle connection
/// holds none.</summary>
internal sealed class SocketSenderPool
{
    private const int MaxIdle = 256;
    private readonly ConcurrentQueue<SocketSender> _idle = new();
    private int _count;

    public SocketSender Rent()
    {
        if (_idle.TryDequeue(out var sender))
        {
            Interlocked.Decrement(ref _count);
            return sender;
        }

        return new SocketSender();
    }

    public void Return(SocketSender sender)
    {
        sender.Clear();
        if (Interlocked.Increment(ref _count) > MaxIdle)
        {
            Interlocked.Decrement(ref _count);
            sender.Dispose();
            return;
        }

        _idle.Enqueue(sender);
    }
}
