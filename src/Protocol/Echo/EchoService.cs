using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Echo;

/// <summary>The node's <c>/echo/1.0.0</c> server: echoes every byte of an inbound stream until the client
/// half-closes, then closes. Useful for interop and diagnostics; the node enables it explicitly.</summary>
public sealed class EchoService : IDisposable
{
    /// <summary>The echo protocol id.</summary>
    public const string ProtocolId = "/echo/1.0.0";

    private readonly HandlerRegistration _registration;

    /// <summary>Registers the echo handler on <paramref name="host"/>.</summary>
    public EchoService(IHost host, StreamHandlerOptions? handlerOptions = null, ILogger? logger = null)
    {
        _registration = HandlerRegistration.ForSession(host, ProtocolId, async (s, ct) => await EchoSession.ServeAsync(s, ct), handlerOptions, logger);
    }

    /// <summary>Opens an echo stream on <paramref name="connection"/>, sends <paramref name="data"/> and returns the echo.</summary>
    /// <exception cref="IOException">The echo differed in length, or the stream could not be opened or failed.</exception>
    public static Task<byte[]> EchoAsync(IConnection connection, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        ProtocolStreams.RunAsync(connection, ProtocolId, (stream, ct) => EchoSession.EchoAsync(stream, data, ct), cancellationToken);

    /// <summary>Removes the handler; streams under way finish.</summary>
    public void Dispose() => _registration.Dispose();
}
