using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Core;

/// <summary>How a request to a peer failed (<see cref="ProtocolRequestException.Failure"/>).</summary>
public enum RequestFailure
{
    /// <summary>No connection to the peer could be made.</summary>
    Unreachable,

    /// <summary>The peer supports none of the protocols asked for.</summary>
    NotSupported,

    /// <summary>The deadline passed before the response arrived.</summary>
    Timeout,

    /// <summary>The peer answered with something malformed, oversized or nothing at all.</summary>
    ProtocolViolation,

    /// <summary>The stream or connection failed (reset, closed) before the response arrived.</summary>
    StreamFailed,
}

/// <summary>A request to a peer failed; <see cref="Failure"/> says how, the message says why.</summary>
public sealed class ProtocolRequestException : IOException
{
    public ProtocolRequestException()
        : this(RequestFailure.StreamFailed, "the request failed")
    {
    }

    public ProtocolRequestException(string message)
        : this(RequestFailure.StreamFailed, message)
    {
    }

    public ProtocolRequestException(string message, Exception innerException)
        : this(RequestFailure.StreamFailed, message, innerException)
    {
    }

    public ProtocolRequestException(RequestFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>How the request failed.</summary>
    public RequestFailure Failure { get; }
}

/// <summary>
/// Request/response over varint-length-prefixed messages: one request and its response on a new stream, or one
/// exchange on a stream already open (for protocols that allow several requests per stream), each under a deadline,
/// each failure mapped to a <see cref="ProtocolRequestException"/> with its <see cref="RequestFailure"/>.
/// </summary>
public static class RequestResponse
{
    /// <summary>
    /// Connects to <paramref name="peer"/> if needed, opens a stream for the first of <paramref name="protocols"/> it
    /// supports, sends <paramref name="request"/> and reads one response, all within <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="ProtocolRequestException">Any failure, classified.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<TResponse> SendAsync<TRequest, TResponse>(
        IHost host,
        PeerId peer,
        IReadOnlyList<string> protocols,
        TRequest request,
        IMessageCodec<TRequest> requestCodec,
        IMessageCodec<TResponse> responseCodec,
        TimeSpan timeout,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(protocols);
        using var deadline = new CancellationTokenSource(timeout, timeProvider ?? TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var what = $"{protocols[0]} request to {peer}";
        IConnection connection;
        try
        {
            connection = await host.ConnectAsync(peer, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProtocolRequestException(RequestFailure.Timeout, $"{what}: connecting timed out after {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException)
        {
            throw new ProtocolRequestException(RequestFailure.Unreachable, $"{what}: cannot connect: {ex.Message}", ex);
        }

        return await Classify(
            what,
            timeout,
            () => ProtocolStreams.RunAsync(
                connection,
                protocols,
                async (stream, token) =>
                {
                    await LengthPrefixedMessages.WriteAsync(stream.Output, request, requestCodec, token).ConfigureAwait(false);
                    return await LengthPrefixedMessages.ReadRequiredAsync(stream.Input, responseCodec, token).ConfigureAwait(false);
                },
                linked.Token),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="request"/> on an open <paramref name="stream"/> and reads one response within
    /// <paramref name="timeout"/>. The stream stays open for the next exchange; the caller resets it after a failure.</summary>
    /// <exception cref="ProtocolRequestException">Any failure, classified.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<TResponse> ExchangeAsync<TRequest, TResponse>(
        IStream stream,
        TRequest request,
        IMessageCodec<TRequest> requestCodec,
        IMessageCodec<TResponse> responseCodec,
        TimeSpan timeout,
        TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var deadline = new CancellationTokenSource(timeout, timeProvider ?? TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        return await Classify(
            $"{stream.Protocol} request to {stream.Connection.RemotePeer}",
            timeout,
            async () =>
            {
                await LengthPrefixedMessages.WriteAsync(stream.Output, request, requestCodec, linked.Token).ConfigureAwait(false);
                return await LengthPrefixedMessages.ReadRequiredAsync(stream.Input, responseCodec, linked.Token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> Classify<T>(string what, TimeSpan timeout, Func<Task<T>> exchange, CancellationToken cancellationToken)
    {
        try
        {
            return await exchange().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProtocolRequestException(RequestFailure.Timeout, $"{what}: no response within {timeout.TotalMilliseconds:0} ms");
        }
        catch (ProtocolNegotiationException ex) when (ex.Failure == NegotiationFailure.NotSupported)
        {
            throw new ProtocolRequestException(RequestFailure.NotSupported, $"{what}: the peer does not support it", ex);
        }
        catch (ProtocolNegotiationException ex) when (ex.Failure == NegotiationFailure.ProtocolViolation)
        {
            throw new ProtocolRequestException(RequestFailure.ProtocolViolation, $"{what}: {ex.Message}", ex);
        }
        catch (WireFormatException ex)
        {
            throw new ProtocolRequestException(RequestFailure.ProtocolViolation, $"{what}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException and not ProtocolRequestException or ObjectDisposedException or InvalidOperationException)
        {
            throw new ProtocolRequestException(RequestFailure.StreamFailed, $"{what}: {ex.Message}", ex);
        }
    }
}
