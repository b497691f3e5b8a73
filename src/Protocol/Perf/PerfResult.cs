namespace ToolNet.Protocol.Perf;

/// <summary>The client's measurements of one perf run (libp2p/specs <c>perf/perf.md</c>).</summary>
/// <param name="UploadBytes">Bytes sent after the 8-byte request.</param>
/// <param name="DownloadBytes">Bytes received (always the amount requested; anything else fails the run).</param>
/// <param name="UploadTime">From the start of the run until the upload was flushed and our side half-closed.</param>
/// <param name="DownloadTime">From the half-close until the server closed its side.</param>
/// <param name="Total">From the start of the run until the server closed its side.</param>
public sealed record PerfResult(ulong UploadBytes, ulong DownloadBytes, TimeSpan UploadTime, TimeSpan DownloadTime, TimeSpan Total)
{
    /// <summary>Upload throughput in bytes per second.</summary>
    public double UploadBytesPerSecond => Rate(UploadBytes, UploadTime);

    /// <summary>Download throughput in bytes per second.</summary>
    public double DownloadBytesPerSecond => Rate(DownloadBytes, DownloadTime);

    private static double Rate(ulong bytes, TimeSpan time) => time > TimeSpan.Zero ? bytes / time.TotalSeconds : 0;
}
