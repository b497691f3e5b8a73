using System.Collections.Concurrent;
using ToolNet.Protocol.Addressing;

namespace ToolNet.Protocol.Memory;

/// <summary>Settings of a <see cref="MemoryNetwork"/>.</summary>
public sealed record MemoryNetworkOptions
{
    /// <summary>The clock that latency and dial timeouts follow (a virtual clock in simulations).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>One-way delay of every link, unless <see cref="LinkLatency"/> says otherwise. Zero (the default)
    /// connects the two ends' pipes directly; anything else runs each direction through a delay line.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>One-way delay from the endpoint numbered by the first argument to the second; overrides
    /// <see cref="Latency"/> when set.</summary>
    public Func<ulong, ulong, TimeSpan>? LinkLatency { get; init; }

    /// <summary>Bytes a direction buffers before the writer waits, as a socket's send and receive buffers would.</summary>
    public int BufferedBytesPerDirection { get; init; } = 1024 * 1024;

    /// <summary>Connections a listener queues before it refuses new dials (a listen backlog).</summary>
    public int ListenBacklog { get; init; } = 256;
}

/// <summary>
/// An in-process network of <see cref="MemoryTransport"/>s, addressed <c>/memory/N</c>: connections are pairs of
/// pipes, with optional latency, and faults a real network has: an endpoint that <see cref="Vanish">vanishes</see>
/// (its links stop delivering without closing, as a machine that lost power) and links <see cref="Cut">cut</see>
/// between two endpoints (a partition). Dials to a vanished or cut-off endpoint hang until their timeout, like a SYN
/// to a dead host. Thread-safe. Simulations run the real protocol stack on it, many thousands of nodes to a process.
/// </summary>
public sealed class MemoryNetwork
{
    private readonly ConcurrentDictionary<ulong, MemoryTransportListener> _listeners = new();
    private readonly ConcurrentDictionary<(ulong, ulong), byte> _cuts = new();
    private readonly object _faultsLock = new();
    private TaskCompletionSource _faultsChanged = NewSignal();
    private long _nextNumber;
    private int _openConnections;

    /// <summary>A network with <paramref name="options"/> (defaults when null).</summary>
    public MemoryNetwork(MemoryNetworkOptions? options = null)
    {
        Options = options ?? new MemoryNetworkOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.BufferedBytesPerDirection);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.ListenBacklog);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.Latency, TimeSpan.Zero);
    }

    /// <summary>The network's settings.</summary>
    public MemoryNetworkOptions Options { get; }

    /// <summary>Connections open on the network (both ends counted once).</summary>
    public int OpenConnections => Volatile.Read(ref _openConnections);

    /// <summary>A new endpoint on this network, with a number of its own: it listens on <c>/memory/0</c> (its own
    /// number) or on any free number, and dials any <c>/memory/N</c>.</summary>
    public MemoryTransport CreateTransport() => new(this, (ulong)Interlocked.Increment(ref _nextNumber));

    /// <summary>Makes every link of <paramref name="transport"/> stop delivering, in both directions, without closing
    /// anything; dials to or from it hang until their timeout. <see cref="Restore"/> undoes it.</summary>
    public void Vanish(MemoryTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        transport.Vanished = true;
        SignalFaultsChanged();
    }

    /// <summary>Brings a vanished endpoint back; what its peers sent meanwhile is delivered then.</summary>
    public void Restore(MemoryTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        transport.Vanished = false;
        SignalFaultsChanged();
    }

    /// <summary>Stops delivery between the endpoints numbered <paramref name="a"/> and <paramref name="b"/>, both ways.</summary>
    public void Cut(ulong a, ulong b)
    {
        _cuts[Ordered(a, b)] = 0;
        SignalFaultsChanged();
    }

    /// <summary>Restores delivery between <paramref name="a"/> and <paramref name="b"/>.</summary>
    public void Heal(ulong a, ulong b)
    {
        _cuts.TryRemove(Ordered(a, b), out _);
        SignalFaultsChanged();
    }

    /// <summary>Heals every cut (vanished endpoints stay vanished).</summary>
    public void HealAll()
    {
        _cuts.Clear();
        SignalFaultsChanged();
    }

    /// <summary>The address of endpoint <paramref name="number"/>.</summary>
    public static Multiaddr AddressOf(ulong number)
    {
        Span<byte> value = stackalloc byte[sizeof(ulong)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(value, number);
        return Multiaddr.Create(MultiaddrComponent.Create(MultiaddrProtocol.Memory, value));
    }

    /// <summary>The endpoint number of <c>/memory/N</c> (with at most a <c>/p2p/…</c> after it), or false.</summary>
    public static bool TryGetNumber(Multiaddr address, out ulong number)
    {
        ArgumentNullException.ThrowIfNull(address);
        number = 0;
        var components = address.Components;
        if (components.Length is 0 or > 2
            || components[0].Protocol != MultiaddrProtocol.Memory
            || (components.Length == 2 && components[1].Protocol != MultiaddrProtocol.P2p))
        {
            return false;
        }

        number = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(components[0].Value.Span);
        return true;
    }

    /// <summary>Whether data flows between <paramref name="a"/> and <paramref name="b"/>.</summary>
    internal bool IsUp(MemoryTransport a, MemoryTransport b) =>
        !a.Vanished && !b.Vanished && (_cuts.IsEmpty || !_cuts.ContainsKey(Ordered(a.Number, b.Number)));

    /// <summary>Completes once <paramref name="a"/> and <paramref name="b"/> can talk again.</summary>
    internal async ValueTask WaitUntilUpAsync(MemoryTransport a, MemoryTransport b, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_faultsLock)
            {
                changed = _faultsChanged.Task;
            }

            if (IsUp(a, b))
            {
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal TimeSpan LatencyBetween(ulong from, ulong to) => Options.LinkLatency?.Invoke(from, to) ?? Options.Latency;

    internal bool TryRegister(ulong number, MemoryTransportListener listener) => _listeners.TryAdd(number, listener);

    internal void Unregister(ulong number, MemoryTransportListener listener) => _listeners.TryRemove(new(number, listener));

    internal bool TryGetListener(ulong number, out MemoryTransportListener? listener) => _listeners.TryGetValue(number, out listener);

    internal void ConnectionOpened() => Interlocked.Increment(ref _openConnections);

    internal void ConnectionClosed() => Interlocked.Decrement(ref _openConnections);

    private static (ulong, ulong) Ordered(ulong a, ulong b) => a <= b ? (a, b) : (b, a);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalFaultsChanged()
    {
        TaskCompletionSource previous;
        lock (_faultsLock)
        {
            previous = _faultsChanged;
            _faultsChanged = NewSignal();
        }

        previous.TrySetResult();
    }
}
