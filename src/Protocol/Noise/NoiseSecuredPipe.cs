using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace ToolNet.Protocol.Noise;

/// <summary>
/// A Noise-secured connection after the handshake: a plaintext <see cref="IDuplexPipe"/> over a raw transport pipe.
/// A read loop decrypts frames from the transport into <see cref="Input"/>; a write loop takes what the application
/// writes to <see cref="Output"/> and sends it in frames of at most <see cref="NoiseConstants.FramePlaintextLength"/>
/// plaintext bytes (exactly 64 KiB on the wire), encrypted straight into the transport's (pooled) buffers.
/// <list type="bullet">
/// <item>Completing <see cref="Output"/> flushes what is left and completes the transport output: a half-close.</item>
/// <item>End of the transport input completes <see cref="Input"/>; sending goes on.</item>
/// <item>A bad frame (authentication failure, truncated frame) closes the whole connection with a logged reason;
/// the application sees that exception on <see cref="Input"/> and <see cref="Output"/>, and <see cref="Completion"/>
/// faults with it.</item>
/// </list>
/// Owns both cipher states and the transport, which it completes when its loops end.
/// </summary>
public sealed partial class NoiseSecuredPipe : IDuplexPipe, IAsyncDisposable
{
    // Plaintext encrypted per transport flush: bounds what one write-loop pass buffers in the transport.
    private const int FlushThreshold = 4 * NoiseConstants.FramePlaintextLength;

    // Readers run inline when the writer flushes: decrypted data goes on to the muxer's parser, and the muxer's
    // frames on to encryption and the socket, on the flushing thread instead of a thread-pool hop per flush. Both
    // readers only parse or encrypt and never block; a writer that had to pause resumes on the thread pool.
    private static readonly PipeOptions DefaultPipeOptions = new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: 4 * NoiseConstants.MaxMessageLength,
        resumeWriterThreshold: 2 * NoiseConstants.MaxMessageLength,
        useSynchronizationContext: false);

    private readonly IDuplexPipe _transport;
    private readonly CipherState _sender;
    private readonly CipherState _receiver;
    private readonly ILogger _logger;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _readLoop;
    private readonly Task _writeLoop;
    private Exception? _abortReason;
    private Exception? _failure;

    /// <summary>Starts both loops over <paramref name="transport"/> with the cipher states from
    /// <see cref="HandshakeState.Split"/>; any bytes already buffered in the transport input are read first.</summary>
    public NoiseSecuredPipe(IDuplexPipe transport, TransportCipherPair ciphers, ILogger logger, PipeOptions? pipeOptions = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(ciphers.Sender);
        ArgumentNullException.ThrowIfNull(ciphers.Receiver);
        ArgumentNullException.ThrowIfNull(logger);
        _transport = transport;
        _sender = ciphers.Sender;
        _receiver = ciphers.Receiver;
        _logger = logger;
        _input = new Pipe(pipeOptions ?? DefaultPipeOptions);
        _output = new Pipe(pipeOptions ?? DefaultPipeOptions);
        _readLoop = ReadLoopAsync();
        _writeLoop = WriteLoopAsync();
        Completion = WaitForLoopsAsync();
    }

    /// <summary>Decrypted data from the remote; completes at the remote's half-close.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Data to encrypt and send; complete it to half-close.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Completes when both directions have ended; faults with the reason when the connection failed.</summary>
    public Task Completion { get; }

    /// <summary>Aborts both directions (unless they have already ended), waits for the loops and releases the keys.</summary>
    public async ValueTask DisposeAsync()
    {
        Abort(new IOException("the Noise connection was disposed"));
        try
        {
            await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        }
        finally
        {
            _abort.Dispose();
        }
    }

    private async Task ReadLoopAsync()
    {
        await Task.Yield();
        var transportInput = _transport.Input;
        var plaintext = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await transportInput.ReadAsync(_abort.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var decoded = false;
                long leftOver;
                try
                {
                    while (NoiseFrameCodec.TryReadFrame(ref buffer, _receiver, plaintext, out _))
                    {
                        decoded = true;
                    }

                    leftOver = buffer.Length;
                }
                finally
                {
                    transportInput.AdvanceTo(buffer.Start, buffer.End);
                }

                if (decoded && (await plaintext.FlushAsync(_abort.Token).ConfigureAwait(false)).IsCompleted)
                {
                    break; // The application stopped reading; stop reading the transport too.
                }

                if (result.IsCompleted)
                {
                    if (leftOver > 0)
                    {
                        throw new WireFormatException($"the transport ended inside a Noise frame ({leftOver} bytes of it received)");
                    }

                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = Fail(ex);
        }
        finally
        {
            await transportInput.CompleteAsync(error).ConfigureAwait(false);
            await plaintext.CompleteAsync(error).ConfigureAwait(false);
            _receiver.Dispose();
        }
    }

    private async Task WriteLoopAsync()
    {
        await Task.Yield();
        var plaintext = _output.Reader;
        var transportOutput = _transport.Output;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await plaintext.ReadAsync(_abort.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                var encrypted = 0L;
                while (!buffer.IsEmpty && encrypted < FlushThreshold)
                {
                    var chunk = buffer.Slice(0, Math.Min(buffer.Length, NoiseConstants.FramePlaintextLength));
                    NoiseFrameCodec.WriteFrame(transportOutput, _sender, chunk);
                    encrypted += chunk.Length;
                    buffer = buffer.Slice(chunk.End);
                }

                var drained = buffer.IsEmpty;
                plaintext.AdvanceTo(buffer.Start);
                if (encrypted > 0 && (await transportOutput.FlushAsync(_abort.Token).ConfigureAwait(false)).IsCompleted)
                {
                    break; // The transport no longer accepts data.
                }

                if (result.IsCompleted && drained)
                {
                    break; // The application completed Output: half-close.
                }
            }
        }
        catch (Exception ex)
        {
            error = Fail(ex);
        }
        finally
        {
            await plaintext.CompleteAsync(error).ConfigureAwait(false);
            await transportOutput.CompleteAsync(error).ConfigureAwait(false);
            _sender.Dispose();
        }
    }

    /// <summary>Classifies a loop's exception, logs it and aborts the other direction. Returns the exception that the
    /// pipes are completed with.</summary>
    private Exception Fail(Exception exception)
    {
        if (exception is OperationCanceledException && _abort.IsCancellationRequested)
        {
            return Volatile.Read(ref _abortReason)!;
        }

        if (exception is WireFormatException)
        {
            LogBadFrame(_logger, exception.Message, exception);
        }
        else
        {
            LogConnectionFailed(_logger, exception.Message, exception);
        }

        Interlocked.CompareExchange(ref _failure, exception, null);
        Abort(exception);
        return exception;
    }

    private void Abort(Exception reason)
    {
        Interlocked.CompareExchange(ref _abortReason, reason, null);
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed: both loops have ended.
        }
    }

    private async Task WaitForLoopsAsync()
    {
        await Task.WhenAll(_readLoop, _writeLoop).ConfigureAwait(false);
        if (Volatile.Read(ref _failure) is { } failure)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Closing Noise connection: bad frame from the remote: {Reason}")]
    private static partial void LogBadFrame(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Noise connection failed: {Reason}")]
    private static partial void LogConnectionFailed(ILogger logger, string reason, Exception exception);
}
