using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace ToolNet.Protocol.Crypto;

/// <summary>
/// A node's identity on disk: one file holding the <c>PrivateKey</c> protobuf (peer-ids.md, "Keys": "libp2p
/// implementations store private keys on disk as a serialized PrivateKey protobuf message"), so keys made by other
/// libp2p implementations load as they are, whatever their type.
/// </summary>
/// <remarks>
/// <para>A new file is written to a temporary file in the same directory, flushed to disk and moved into place
/// without overwriting (<see cref="File.Move(string, string, bool)"/> with <c>overwrite: false</c>), so a crash leaves either no identity file or a complete one, and two processes racing to
/// create it end up sharing the first one's key. On Unix it is created with mode 0600 (and a missing directory
/// with 0700).</para>
/// <para>An existing file is never replaced. When it cannot be used (unreadable, not a valid private key, or on
/// Unix readable or writable by group or others, which an SSH client also refuses) loading throws
/// <see cref="IdentityFileException"/> and leaves the file untouched: silently making a new key would change the
/// peer id under everyone who knows it.</para>
/// </remarks>
public static class IdentityFile
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Loads the key at <paramref name="path"/>, or creates a new Ed25519 key there if no file exists.</summary>
    /// <exception cref="IdentityFileException">The file exists but cannot be used, or cannot be created.</exception>
    public static async Task<PrivateKey> LoadOrCreateAsync(string path, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Exists(path))
        {
            return await LoadAsync(path, cancellationToken).ConfigureAwait(false);
        }

        // Creators take turns under an exclusive lock on a side file (FileShare.None is an flock on Unix, released if
        // the process dies), so two processes starting at once end up with the same key: the second finds the file.
        await using var creationLock = await LockForCreationAsync(path, cancellationToken).ConfigureAwait(false);
        if (Exists(path))
        {
            return await LoadAsync(path, cancellationToken).ConfigureAwait(false);
        }

        var key = Ed25519PrivateKey.Generate();
        if (await TryCreateAsync(path, key, cancellationToken).ConfigureAwait(false))
        {
            if (logger is not null && logger.IsEnabled(LogLevel.Information))
            {
                logger.LogInformation("Created a new Ed25519 identity in {Path}", path);
            }

            return key;
        }

        // Another process created the file between our check and our move: use its key.
        return await LoadAsync(path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads the key at <paramref name="path"/>; never creates anything.</summary>
    /// <exception cref="IdentityFileException">Missing, unreadable, too open, or not a valid private key.</exception>
    public static async Task<PrivateKey> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new IdentityFileException(path, "is a directory, not a key file");
        }

        byte[] bytes;
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & GroupOrOther) != 0)
                {
                    throw new IdentityFileException(path,
                        $"permissions {Convert.ToString((int)mode, 8)} let other users read or change the private key; restrict them to the owner (chmod 600)");
                }
            }

            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
            if (stream.Length > KeyProtobuf.MaxLength)
            {
                throw new IdentityFileException(path, $"{stream.Length} bytes is larger than any private key ({KeyProtobuf.MaxLength})");
            }

            bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IdentityFileException(path, e is FileNotFoundException or DirectoryNotFoundException ? "does not exist" : $"cannot be read: {e.Message}", e);
        }

        try
        {
            return PrivateKey.FromProtobuf(bytes);
        }
        catch (WireFormatException e)
        {
            throw new IdentityFileException(path, $"is not a libp2p private key: {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    // Writes a temporary file and moves it into place without overwriting; false if the file appeared meanwhile.
    private static async Task<bool> TryCreateAsync(string path, PrivateKey key, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        var temporary = $"{fullPath}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp";
        var encoded = key.ToProtobuf();
        try
        {
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnly;
            }

            await using (var stream = new FileStream(temporary, options))
            {
                await stream.WriteAsync(encoded, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, fullPath, overwrite: false);
                return true;
            }
            catch (IOException) when (Exists(fullPath))
            {
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IdentityFileException(path, $"cannot be created: {e.Message}", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(encoded);
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static async Task<FileStream> LockForCreationAsync(string path, CancellationToken cancellationToken)
    {
        var lockPath = Path.GetFullPath(path) + ".lock";
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        while (true)
        {
            try
            {
                var directory = Path.GetDirectoryName(lockPath)!;
                if (!Directory.Exists(directory))
                {
                    if (OperatingSystem.IsWindows())
                    {
                        Directory.CreateDirectory(directory);
                    }
                    else
                    {
                        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                    }
                }

                return new FileStream(lockPath, options);
            }
            catch (IOException e) when (e is DirectoryNotFoundException or PathTooLongException)
            {
                throw new IdentityFileException(path, $"cannot be created: {e.Message}", e);
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                // Another creator holds the lock; it finishes in milliseconds.
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IdentityFileException(path, $"cannot be created: {e.Message}", e);
            }
        }
    }

    // True for anything at the path, including a directory or a dangling link: all of them must not be replaced.
    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;
}
