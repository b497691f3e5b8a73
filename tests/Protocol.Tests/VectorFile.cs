using System.Text.Json;

namespace ToolNet.Protocol.Tests;

/// <summary>Reads test vectors copied under tests/Protocol.Tests/Vectors (see each folder's PROVENANCE.md).</summary>
internal static class VectorFile
{
    public static string PathOf(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Vectors", .. parts]);

    public static JsonElement Json(params string[] parts)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PathOf(parts)));
        return document.RootElement.Clone();
    }

    public static byte[] Bytes(params string[] parts) => File.ReadAllBytes(PathOf(parts));

    public static byte[] Hex(this JsonElement element) => Convert.FromHexString(element.GetString()!);
}
