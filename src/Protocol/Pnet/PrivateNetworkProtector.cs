using System.IO.Pipelines;

namespace ToolNet.Protocol.Pnet;

/// <summary>
/// Puts every raw connection of a host inside one private network (libp2p/specs pnet): set as
/// <c>HostOptions.PrivateNetwork</c>, the host wraps each dialled and accepted connection before multistream-select,
/// so only peers holding the same <see cref="PreSharedKey"/> get past the first protocol header.
/// </summary>
public sealed class PrivateNetworkProtector(PreSharedKey key)
{
    /// <summary>The network's key.</summary>
    public PreSharedKey Key { get; } = key ?? throw new ArgumentNullException(nameof(key));

    /// <summary>The raw connection as seen from inside the network: both directions encrypted with the key. Sends our
    /// nonce before it returns.</summary>
    /// <exception cref="IOException">The connection closed first.</exception>
    public async ValueTask<IDuplexPipe> ProtectAsync(IDuplexPipe raw, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return await PrivateNetworkPipe.StartAsync(raw, Key, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The remote is not in our private network: it has another key, or none, or we have none and it has one.</summary>
public sealed class PrivateNetworkMismatchException : IOException
{
    public PrivateNetworkMismatchException()
    {
    }

    public PrivateNetworkMismatchException(string message)
        : base(message)
    {
    }

    public PrivateNetworkMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
