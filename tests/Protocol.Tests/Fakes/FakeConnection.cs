using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>One side of a <see cref="FakeHost.Connect"/> link. A new stream picks the first proposed protocol the
/// remote host has a handler for (as multistream-select would) and runs that handler on the other end.</summary>
public sealed class FakeConnection : IConnection
{
    private readonly FakeHost _local;
    private readonly FakeHost _remoteHost;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextStream;
    private int _openOutbound;
    private int _mostOpenOutbound;

    public FakeConnection(FakeHost local, FakeHost remoteHost, Multiaddr localAddress, Multiaddr remoteAddress, Direction direction, bool limited)
    {
        _local = local;
        _remoteHost = remoteHost;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        Direction = direction;
        IsLimited = limited;
        Id = local.NextConnectionId();
    }

    public FakeConnection Remote { get; set; } = null!;

    public string Id { get; }

    public PeerId RemotePeer => _remoteHost.PeerId;

    public PublicKey RemotePublicKey => _remoteHost.Key.GetPublicKey();

    public Multiaddr LocalAddress { get; }

    public Multiaddr RemoteAddress { get; }

    public Direction Direction { get; }

    public bool IsLimited { get; }

    public string Security => "/noise";

    public string Muxer => "/yamux/1.0.0";

    public DateTimeOffset Opened { get; } = DateTimeOffset.UtcNow;

    /// <summary>Not tracked by the fake.</summary>
    public int StreamCount => 0;

    public Task Completion => _closed.Task;

    /// <summary>The most streams this side had open at once (opened here, not yet disposed).</summary>
    public int MostOpenOutboundStreams => Volatile.Read(ref _mostOpenOutbound);

    /// <summary>How many streams this side opened, by protocol.</summary>
    public List<string> OpenedProtocols { get; } = [];

    public ValueTask<IStream> NewStreamAsync(IReadOnlyList<string> protocols, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_closed.Task.IsCompleted)
        {
            throw new IOException("the connection is closed");
        }

        foreach (var protocol in protocols)
        {
            if (_remoteHost.FindHandler(protocol) is { } handler)
            {
                var id = Interlocked.Increment(ref _nextStream);
                var (mine, theirs) = InMemoryStream.CreatePair(protocol, this, Remote, id);
                lock (OpenedProtocols)
                {
                    OpenedProtocols.Add(protocol);
                }

                var open = Interlocked.Increment(ref _openOutbound);
                int most;
                while ((most = Volatile.Read(ref _mostOpenOutbound)) < open && Interlocked.CompareExchange(ref _mostOpenOutbound, open, most) != most)
                {
                }

                mine.Disposed = () => Interlocked.Decrement(ref _openOutbound);
                _remoteHost.RunHandler(handler, theirs);
                return ValueTask.FromResult<IStream>(mine);
            }
        }

        throw new ProtocolNegotiationException(NegotiationFailure.NotSupported, $"the remote supports none of {string.Join(", ", protocols)}");
    }

    public ValueTask CloseAsync(CancellationToken cancellationToken = default)
    {
        Close();
        Remote.Close();
        return ValueTask.CompletedTask;
    }

    private void Close()
    {
        if (_closed.TrySetResult())
        {
            _local.Remove(this);
        }
    }
}
