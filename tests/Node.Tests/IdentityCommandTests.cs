using System.Text.Json;

namespace ToolNet.Node.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IdentityCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("toolnet-identity-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Show_creates_the_key_once_with_owner_only_permissions_and_then_reloads_it()
    {
        var first = await ToolnetProcess.RunAsync("identity", "show", "--data", _directory, "--json");
        Assert.Equal(0, first.ExitCode);
        var second = await ToolnetProcess.RunAsync("identity", "show", "--data", _directory, "--json");
        Assert.Equal(0, second.ExitCode);

        var peerId = JsonDocument.Parse(first.Stdout).RootElement.GetProperty("peerId").GetString();
        Assert.StartsWith("12D3KooW", peerId, StringComparison.Ordinal);
        Assert.Equal(peerId, JsonDocument.Parse(second.Stdout).RootElement.GetProperty("peerId").GetString());
        var keyFile = Path.Combine(_directory, "identity.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
    }

    [Fact]
    public async Task A_corrupt_key_file_is_a_clear_error_and_is_left_untouched()
    {
        var keyFile = Path.Combine(_directory, "corrupt.key");
        byte[] garbage = [0x08, 0x01, 0x12, 0x40, 0x01, 0x02];
        await File.WriteAllBytesAsync(keyFile, garbage);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var result = await ToolnetProcess.RunAsync("identity", "show", "--key", keyFile, "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(keyFile, JsonDocument.Parse(result.Stderr).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(keyFile));
    }

    [Fact]
    public async Task New_never_overwrites_an_existing_identity()
    {
        var keyFile = Path.Combine(_directory, "node.key");
        var created = await ToolnetProcess.RunAsync("identity", "new", "--key", keyFile);
        Assert.Equal(0, created.ExitCode);
        var before = await File.ReadAllBytesAsync(keyFile);

        var again = await ToolnetProcess.RunAsync("identity", "new", "--key", keyFile);

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllBytesAsync(keyFile));
    }

    [Fact]
    public async Task Version_prints_the_informational_version()
    {
        var result = await ToolnetProcess.RunAsync("version", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("0.", JsonDocument.Parse(result.Stdout).RootElement.GetProperty("version").GetString(), StringComparison.Ordinal);
    }
}
