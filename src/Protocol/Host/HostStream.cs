using System.IO.Pipelines;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Host;

/// <summary>A muxed stream with its negotiated protocol and connection. Disposing releases its slot in the
/// connection's per-protocol accounting exactly once.</summary>
internal sealed class HostStream : IStream
{
    private readonly IMuxedStream _stream;
    private Action? _onClosed;

    public HostStream(IMuxedStream stream, string protocol, HostConnection connection, Action? onClosed)
    {
        _stream = stream;
        Protocol = protocol;
        Connection = connection;
        _onClosed = onClosed;
    }

    public string Protocol { get; }

    public IConnection Connection { get; }

    public long Id => _stream.Id;

    public Direction Direction => _stream.Direction;

    public PipeReader Input => _stream.Input;

    public PipeWriter Output => _stream.Output;

    public ValueTask CloseWriteAsync(CancellationToken cancellationToken = default) => _stream.CloseWriteAsync(cancellationToken);

    public void Reset()
    {
        _stream.Reset();
        Release();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        Release();
    }

    public override string ToString() => $"{Protocol} stream {Id} on {Connection.Id}";

    private void Release() => Interlocked.Exchange(ref _onClosed, null)?.Invoke();
}
