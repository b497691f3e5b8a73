using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using ToolNet.Protocol.Core;

namespace ToolNet.Protocol.Yamux;

/// <summary>The yamux stream muxer, <c>/yamux/1.0.0</c> (libp2p/specs yamux/README.md).</summary>
public sealed class YamuxMuxer(YamuxOptions? options = null) : IStreamMuxer
{
    /// <summary>The multistream-select protocol id of yamux.</summary>
    public const string Id = "/yamux/1.0.0";

    /// <summary>The options every session started by this muxer runs with.</summary>
    public YamuxOptions Options { get; } = options ?? YamuxOptions.Default;

    /// <inheritdoc />
    public string ProtocolId => Id;

    /// <summary>Starts a session over <paramref name="transport"/> with no node-wide limits;
    /// <see cref="Direction.Outbound"/> (we dialed) makes us the yamux client.</summary>
    public YamuxSession Start(IDuplexPipe transport, Direction direction, ILogger logger) =>
        Start(transport, direction, logger, UnlimitedMuxerResources.Instance);

    /// <summary>Starts a session over <paramref name="transport"/> whose streams and receive memory also count
    /// against <paramref name="resources"/>.</summary>
    public YamuxSession Start(IDuplexPipe transport, Direction direction, ILogger logger, IMuxerResources resources)
    {
        var session = new YamuxSession(transport, direction, Options, logger, resources);
        session.Start();
        return session;
    }

    IMuxedConnection IStreamMuxer.Start(IDuplexPipe transport, Direction direction, ILogger logger, IMuxerResources resources) =>
        Start(transport, direction, logger, resources);
}
