using System.IO.Pipelines;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>
/// One end of an in-memory stream: two <see cref="Pipe"/>s crossed, so what one end writes the other reads.
/// Completing <see cref="Output"/> is a half-close (the other end reads end-of-stream); <see cref="Reset"/> makes the
/// other end's reads and flushes throw <see cref="StreamResetException"/>, dropping what was buffered, as a muxer does.
/// </summary>
public sealed class InMemoryStream : IStream
{
    /// <summary>The pipes pause a writer at 64 KiB unread, like a muxer's receive window, so backpressure is real.</summary>
    private static readonly PipeOptions Options = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);

    private readonly Pipe _incoming;
    private readonly Pipe _outgoing;
    private readonly IConnection? _connection;
    private Action? _disposed;

    private InMemoryStream(Pipe incoming, Pipe outgoing, long id, Direction direction, string protocol, IConnection? connection)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        Id = id;
        Direction = direction;
        Protocol = protocol;
        _connection = connection;
    }

    public PipeReader Input => _incoming.Reader;

    public PipeWriter Output => _outgoing.Writer;

    public long Id { get; }

    public Direction Direction { get; }

    public string Protocol { get; }

    public IConnection Connection => _connection ?? throw new InvalidOperationException("this test stream has no connection");

    /// <summary>Called once when this end is disposed.</summary>
    public Action? Disposed
    {
        get => _disposed;
        set => _disposed = value;
    }

    /// <summary>Whether this end was reset (by itself).</summary>
    public bool WasReset { get; private set; }

    /// <summary>A connected pair: <c>Initiator</c> opened it (outbound), <c>Responder</c> accepted it.</summary>
    public static (InMemoryStream Initiator, InMemoryStream Responder) CreatePair(
        string protocol = "/test/1.0.0", IConnection? initiatorConnection = null, IConnection? responderConnection = null, long id = 1)
    {
        var initiatorToResponder = new Pipe(Options);
        var responderToInitiator = new Pipe(Options);
        return (
            new InMemoryStream(responderToInitiator, initiatorToResponder, id, Direction.Outbound, protocol, initiatorConnection),
            new InMemoryStream(initiatorToResponder, responderToInitiator, id, Direction.Inbound, protocol, responderConnection));
    }

    /// <summary>Reads everything until the other end half-closes.</summary>
    public Task<byte[]> ReadToEndAsync() => Input.ReadToEndAsync();

    public async ValueTask CloseWriteAsync(CancellationToken cancellationToken = default)
    {
        await Output.FlushAsync(cancellationToken);
        await Output.CompleteAsync();
    }

    public void Reset()
    {
        WasReset = true;
        _outgoing.Writer.Complete(new StreamResetException());
        _incoming.Reader.Complete(new StreamResetException());
    }

    public async ValueTask DisposeAsync()
    {
        await _outgoing.Writer.CompleteAsync();
        await _incoming.Reader.CompleteAsync();
        Interlocked.Exchange(ref _disposed, null)?.Invoke();
    }
}
