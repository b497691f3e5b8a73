using System.Runtime.Versioning;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Tests.Crypto;

[UnsupportedOSPlatform("windows")]
public sealed class IdentityFileTests : IDisposable
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"toolnet-identity-{Guid.NewGuid():N}");

    private string KeyPath => Path.Combine(_directory, "identity.key");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Creates_an_Ed25519_key_with_owner_only_permissions_and_reloads_the_same_peer_id()
    {
        var created = await IdentityFile.LoadOrCreateAsync(KeyPath);

        Assert.Equal(KeyType.Ed25519, created.KeyType);
        Assert.Equal(OwnerReadWrite, File.GetUnixFileMode(KeyPath));
        Assert.Equal(created.ToProtobuf(), await File.ReadAllBytesAsync(KeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory));
        Assert.Equal([KeyPath, KeyPath + ".lock"], Directory.GetFiles(_directory).Order(StringComparer.Ordinal));

        var loaded = await IdentityFile.LoadAsync(KeyPath);
        var loadedAgain = await IdentityFile.LoadOrCreateAsync(KeyPath);

        Assert.Equal(created, loaded);
        Assert.Equal(created, loadedAgain);
        Assert.Equal(PeerId.FromPublicKey(created.GetPublicKey()), PeerId.FromPublicKey(loadedAgain.GetPublicKey()));
    }

    [Fact]
    public async Task Load_never_creates()
    {
        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadAsync(KeyPath));

        Assert.Equal(KeyPath, exception.FilePath);
        Assert.Equal("does not exist", exception.Reason);
        Assert.False(File.Exists(KeyPath));
    }

    public static TheoryData<string, string> CorruptFiles() => new()
    {
        { "", "empty" },
        { "00112233445566778899", "random bytes" },
        { "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fc", "truncated Ed25519 key" },
        { "080712407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "unknown key type 7" },
        { "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27f", "public half altered" },
        { "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e", "a public key" },
        { Convert.ToHexString("-----BEGIN PRIVATE KEY-----\n"u8), "a PEM file" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public async Task A_corrupt_or_foreign_file_is_refused_and_left_untouched(string hex, string what)
    {
        var content = Convert.FromHexString(hex);
        WriteKeyFile(content, OwnerReadWrite);
        var before = File.GetLastWriteTimeUtc(KeyPath);

        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadOrCreateAsync(KeyPath));
        await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadAsync(KeyPath));

        Assert.Equal(KeyPath, exception.FilePath);
        Assert.StartsWith("is not a libp2p private key", exception.Reason, StringComparison.Ordinal);
        Assert.IsType<WireFormatException>(exception.InnerException, exactMatch: false);
        Assert.Equal(content, await File.ReadAllBytesAsync(KeyPath));
        Assert.Equal(before, File.GetLastWriteTimeUtc(KeyPath));
        Assert.Equal([KeyPath], Directory.GetFiles(_directory));
        Assert.True(what.Length > 0);
    }

    [Theory]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.GroupWrite)]
    public async Task A_file_other_users_can_access_is_refused_and_left_untouched(UnixFileMode extra)
    {
        var key = Ed25519PrivateKey.Generate().ToProtobuf();
        WriteKeyFile(key, OwnerReadWrite | extra);

        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadOrCreateAsync(KeyPath));

        Assert.Contains("chmod 600", exception.Reason, StringComparison.Ordinal);
        Assert.Equal(key, await File.ReadAllBytesAsync(KeyPath));
        Assert.Equal(OwnerReadWrite | extra, File.GetUnixFileMode(KeyPath));
    }

    [Fact]
    public async Task A_directory_at_the_path_is_refused()
    {
        Directory.CreateDirectory(KeyPath);

        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadOrCreateAsync(KeyPath));

        Assert.Contains("directory", exception.Reason, StringComparison.Ordinal);
        Assert.True(Directory.Exists(KeyPath));
    }

    [Fact]
    public async Task A_path_that_cannot_be_created_is_reported_as_such()
    {
        WriteKeyFile([1, 2, 3], OwnerReadWrite);
        var impossible = Path.Combine(KeyPath, "sub", "identity.key");

        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadOrCreateAsync(impossible));

        Assert.StartsWith("cannot be created", exception.Reason, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(KeyPath));
    }

    [Fact]
    public async Task An_oversized_file_is_refused_without_reading_it()
    {
        WriteKeyFile(new byte[64 * 1024], OwnerReadWrite);

        var exception = await Assert.ThrowsAsync<IdentityFileException>(() => IdentityFile.LoadAsync(KeyPath));

        Assert.Contains("larger than any private key", exception.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("2")]
    [InlineData("3")]
    public async Task Keys_of_every_type_written_by_go_libp2p_load(string keyType)
    {
        var goKey = VectorFile.Bytes("go-libp2p-crypto-fixtures", $"{keyType}.priv");
        WriteKeyFile(goKey, OwnerReadWrite);

        var key = await IdentityFile.LoadOrCreateAsync(KeyPath);

        Assert.Equal(goKey, key.ToProtobuf());
        Assert.Equal(VectorFile.Bytes("go-libp2p-crypto-fixtures", $"{keyType}.pub"), key.GetPublicKey().ToProtobuf());
    }

    [Fact]
    public async Task Concurrent_creators_end_up_with_one_key()
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => IdentityFile.LoadOrCreateAsync(KeyPath))));

        Assert.All(keys, key => Assert.Equal(keys[0], key));
        Assert.Equal(keys[0].ToProtobuf(), await File.ReadAllBytesAsync(KeyPath));
        // The key and the lock file creators take turns on; no temporary file is left behind.
        Assert.Equal([KeyPath, KeyPath + ".lock"], Directory.GetFiles(_directory).Order(StringComparer.Ordinal));
    }

    private void WriteKeyFile(byte[] content, UnixFileMode mode)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(KeyPath, content);
        File.SetUnixFileMode(KeyPath, mode);
    }
}
