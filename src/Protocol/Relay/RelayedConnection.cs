using System.IO.Pipelines;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Relay;

/// <summary>
/// A circuit as a raw transport connection: the hop stream (we dialled) or the stop stream (a relay brought it) after
/// the relay said OK. The host secures and multiplexes it like any other and, because <see cref="RemoteAddress"/>
/// contains <c>/p2p-circuit</c>, marks the result limited.
/// </summary>
internal sealed class RelayedConnection : ITransportConnection
{
    private readonly IMuxedStream _stream;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RelayedConnection(IMuxedStream stream, Multiaddr localAddress, Multiaddr remoteAddress, Direction direction)
    {
        _stream = stream;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        Direction = direction;
    }

    public Multiaddr LocalAddress { get; }

    public Multiaddr RemoteAddress { get; }

    public Direction Direction { get; }

    public PipeReader Input => _stream.Input;

    public PipeWriter Output => _stream.Output;

    /// <summary>Completes once the connection is disposed or aborted: the stop handler holding the stream waits for it.</summary>
    public Task Closed => _closed.Task;

    public void Abort(Exception? reason = null)
    {
        _stream.Reset();
        _closed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _closed.TrySetResult();
    }
}
