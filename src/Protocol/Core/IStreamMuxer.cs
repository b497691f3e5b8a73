using System.IO.Pipelines;
using Microsoft.Extensions.Logging;

namespace ToolNet.Protocol.Core;

/// <summary>A stream multiplexer protocol, negotiated by protocol id (multistream-select or the Noise
/// <c>stream_muxers</c> extension) and started on a secured connection.</summary>
public interface IStreamMuxer
{
    /// <summary>The protocol id, for example <c>/yamux/1.0.0</c>.</summary>
    string ProtocolId { get; }

    /// <summary>Starts the muxer over <paramref name="transport"/>. The returned connection owns the transport
    /// and completes it when it closes. Its streams and receive memory are counted against
    /// <paramref name="resources"/> (the node's scope) besides its own limits, and it reports there every stream it
    /// refuses.</summary>
    IMuxedConnection Start(IDuplexPipe transport, Direction direction, ILogger logger, IMuxerResources resources);
}
