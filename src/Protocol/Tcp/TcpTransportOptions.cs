using System.Buffers;

namespace ToolNet.Protocol.Tcp;

/// <summary>Socket and buffering options of <see cref="TcpTransport"/> (also used by the WebSocket transport for its
/// TCP sockets and its byte-stream pipes).</summary>
public sealed record TcpTransportOptions
{
    /// <summary>The defaults: 1 MiB of buffering each way, backlog 512, keep-alive after 30 s idle, SO_REUSEPORT on.</summary>
    public static TcpTransportOptions Default { get; } = new();

    /// <summary>
    /// How many received bytes may wait for the application before the connection stops reading from the socket
    /// (the pause threshold of the input pipe; reading resumes below half of it). The kernel's receive window then
    /// fills and the remote's sends block: a reader that does not read slows the sender instead of growing memory.
    /// </summary>
    public long MaxReceiveBufferSize { get; init; } = 1024 * 1024;

    /// <summary>How many written bytes may wait for the socket before the application's <c>FlushAsync</c> waits
    /// (the pause threshold of the output pipe; flushes resume below half of it).</summary>
    public long MaxSendBufferSize { get; init; } = 1024 * 1024;

    /// <summary>The listen backlog: connections the kernel completes before <c>AcceptAsync</c> takes them.</summary>
    public int ListenBacklog { get; init; } = 512;

    /// <summary>TCP keep-alive: the idle time before the first probe (probes then follow at the same interval).
    /// Null leaves keep-alive off.</summary>
    public TimeSpan? KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sets SO_REUSEPORT (Linux, macOS, FreeBSD) besides SO_REUSEADDR on listening sockets and on dial sockets bound
    /// to <see cref="Core.TransportDialOptions.LocalAddress"/>, so a dial can leave from a port this process listens
    /// on, which hole punching needs. Other processes of the same user can then also bind the listen port.
    /// </summary>
    public bool ReusePort { get; init; } = true;

    /// <summary>
    /// Waits for data with a zero-byte receive before taking a buffer from the pool (Kestrel's
    /// <c>WaitForDataBeforeAllocatingBuffer</c>), so an idle connection holds no receive buffer.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; init; } = true;

    /// <summary>The smallest buffer a receive asks the pool for, and the pipes' minimum segment size.</summary>
    public int MinimumReceiveSize { get; init; } = 4096;

    /// <summary>The largest buffer a receive asks the pool for. Receives start at <see cref="MinimumReceiveSize"/> and
    /// double up to this while each one fills its buffer (a bulk transfer), so that one system call moves many
    /// Noise frames; they shrink back when the socket runs dry.</summary>
    public int MaximumReceiveSize { get; init; } = 128 * 1024;

    /// <summary>The pool the connection pipes take buffers from; null for a pool of pinned 4 KiB blocks that the
    /// transport owns and shares between its connections (keeping up to 64 MiB of returned blocks for reuse).</summary>
    public MemoryPool<byte>? MemoryPool { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value no socket could use.</summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceiveBufferSize, 1, nameof(MaxReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendBufferSize, 1, nameof(MaxSendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ListenBacklog, 0, nameof(ListenBacklog));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinimumReceiveSize, 1, nameof(MinimumReceiveSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaximumReceiveSize, 1, nameof(MaximumReceiveSize));
        if (KeepAlive is { } keepAlive && keepAlive < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(KeepAlive), keepAlive, "TCP keep-alive counts whole seconds; use at least 1 s or null");
        }
    }
}
