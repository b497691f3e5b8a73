using System.Threading.Channels;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Memory;

/// <summary>
/// One endpoint of a <see cref="MemoryNetwork"/>: dials and listens on <c>/memory/N</c> (a trailing <c>/p2p/…</c> is
/// fine for dialing). Listening on <c>/memory/0</c> takes the endpoint's own <see cref="Number"/>. Nothing is
/// encrypted or serialized: it is a transport for tests and simulations, under the same upgrader as TCP.
/// </summary>
public sealed class MemoryTransport : ITransport
{
    private readonly MemoryNetwork _network;
    private volatile bool _vanished;

    internal MemoryTransport(MemoryNetwork network, ulong number)
    {
        _network = network;
        Number = number;
        Address = MemoryNetwork.AddressOf(number);
    }

    /// <inheritdoc/>
    public string Name => "memory";

    /// <summary>This endpoint's number.</summary>
    public ulong Number { get; }

    /// <summary>This endpoint's own address, <c>/memory/Number</c>: the local address of every connection it makes.</summary>
    public Multiaddr Address { get; }

    /// <summary>Whether <see cref="MemoryNetwork.Vanish"/> took this endpoint off the network.</summary>
    public bool Vanished
    {
        get => _vanished;
        internal set => _vanished = value;
    }

    internal MemoryNetwork Network => _network;

    /// <inheritdoc/>
    public bool CanDial(Multiaddr address) => MemoryNetwork.TryGetNumber(address, out var number) && number != 0;

    /// <inheritdoc/>
    public bool CanListen(Multiaddr address) =>
        MemoryNetwork.TryGetNumber(address, out _) && !address.Contains(MultiaddrProtocol.P2p);

    /// <inheritdoc/>
    /// <exception cref="IOException">Nothing listens there, or its backlog is full (connection refused).</exception>
    /// <exception cref="TimeoutException">The remote endpoint vanished or is cut off, and the timeout passed.</exception>
    public async ValueTask<ITransportConnection> DialAsync(Multiaddr address, TransportDialOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!MemoryNetwork.TryGetNumber(address, out var number) || number == 0)
        {
            throw new ArgumentException($"{address} is not a memory address this transport dials", nameof(address));
        }

        if (!_network.TryGetListener(number, out var listener))
        {
            throw new IOException($"connection refused: nothing listens on {MemoryNetwork.AddressOf(number)}");
        }

        using var deadline = new CancellationTokenSource(options.Timeout, _network.Options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            // A SYN to a machine that is gone or behind a partition is never answered: wait for the timeout.
            await _network.WaitUntilUpAsync(this, listener!.Owner, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"dialing {address} timed out after {options.Timeout.TotalMilliseconds:0} ms");
        }

        var (dialer, accepter) = MemoryConnection.CreatePair(this, listener.Owner, listener.ListenAddress);
        if (!listener.TryEnqueue(accepter))
        {
            dialer.Abort();
            accepter.Abort();
            throw new IOException($"connection refused: {listener.ListenAddress} is not accepting connections");
        }

        return dialer;
    }

    /// <inheritdoc/>
    /// <exception cref="IOException">The number is taken.</exception>
    public ValueTask<ITransportListener> ListenAsync(Multiaddr address, CancellationToken cancellationToken = default)
    {
        if (!CanListen(address))
        {
            throw new ArgumentException($"{address} is not a memory address this transport listens on", nameof(address));
        }

        MemoryNetwork.TryGetNumber(address, out var number);
        if (number == 0)
        {
            number = Number;
        }

        var listener = new MemoryTransportListener(this, number);
        if (!_network.TryRegister(number, listener))
        {
            throw new IOException($"{MemoryNetwork.AddressOf(number)} is already in use");
        }

        return ValueTask.FromResult<ITransportListener>(listener);
    }
}

/// <summary>A listener on <c>/memory/N</c>, with a bounded backlog of connections not yet accepted.</summary>
internal sealed class MemoryTransportListener : ITransportListener
{
    private readonly Channel<MemoryConnection> _backlog;
    private readonly ulong _number;

    public MemoryTransportListener(MemoryTransport owner, ulong number)
    {
        Owner = owner;
        _number = number;
        ListenAddress = MemoryNetwork.AddressOf(number);
        _backlog = Channel.CreateBounded<MemoryConnection>(
            new BoundedChannelOptions(owner.Network.Options.ListenBacklog) { FullMode = BoundedChannelFullMode.Wait, SingleReader = false });
    }

    public MemoryTransport Owner { get; }

    public Multiaddr ListenAddress { get; }

    public bool TryEnqueue(MemoryConnection connection) => _backlog.Writer.TryWrite(connection);

    public async ValueTask<ITransportConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _backlog.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Owner.Network.Unregister(_number, this);
        if (_backlog.Writer.TryComplete())
        {
            while (_backlog.Reader.TryRead(out var pending))
            {
                pending.Abort(new IOException("the listener closed"));
            }
        }

        return ValueTask.CompletedTask;
    }
}
