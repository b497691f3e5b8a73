using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Perf;

/// <summary>
/// The <c>/perf/1.0.0</c> server. The spec's security considerations say it "SHOULD NOT be enabled by default" since
/// a client can make the server send any amount of data: the node creates this service only when asked to.
/// The client side (<see cref="PerfAsync"/>) needs no service.
/// </summary>
public sealed class PerfService : IDisposable
{
    /// <summary>The perf protocol id.</summary>
    public const string ProtocolId = "/perf/1.0.0";

    private readonly HandlerRegistration _registration;

    /// <summary>Registers the perf server on <paramref name="host"/>.</summary>
    public PerfService(IHost host, StreamHandlerOptions? handlerOptions = null, ILogger? logger = null)
    {
        _registration = HandlerRegistration.ForSession(host, ProtocolId, async (s, ct) => await PerfSession.ServeAsync(s, ct), handlerOptions, logger);
    }

    /// <summary>Runs one perf measurement against the peer of <paramref name="connection"/> on a new stream.</summary>
    /// <exception cref="IOException">The server sent another number of bytes than requested, or the stream could not
    /// be opened or failed.</exception>
    public static Task<PerfResult> PerfAsync(IConnection connection, ulong upload, ulong download, CancellationToken cancellationToken = default) =>
        ProtocolStreams.RunAsync(connection, ProtocolId, (stream, ct) => PerfSession.PerfAsync(stream, upload, download, ct), cancellationToken);

    /// <summary>Removes the handler; runs under way finish.</summary>
    public void Dispose() => _registration.Dispose();
}
