using System.IO.Pipelines;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Crypto;
using ToolNet.Protocol.Peers;

namespace ToolNet.Protocol.Plaintext;

/// <summary>
/// <c>/plaintext/2.0.0</c> (libp2p/specs plaintext): both sides send their peer id and public key, nothing is
/// encrypted or authenticated. For tests and simulations only, where Noise's handshake CPU would dominate; a node never
/// offers it on a real network. A failed exchange aborts the connection ("MUST be terminated abruptly").
/// </summary>
public sealed class PlaintextSecurity : ISecurityProtocol
{
    /// <summary>The protocol id.</summary>
    public const string Id = "/plaintext/2.0.0";

    private readonly PlaintextExchange _local;

    /// <summary>The protocol for the local <paramref name="identity"/>.</summary>
    public PlaintextSecurity(PrivateKey identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var publicKey = identity.GetPublicKey();
        _local = new PlaintextExchange(PeerId.FromPublicKey(publicKey), publicKey);
    }

    /// <inheritdoc/>
    public string ProtocolId => Id;

    /// <inheritdoc/>
    /// <exception cref="PeerIdMismatchException">The listener is not the peer we dialled.</exception>
    public ValueTask<SecuredChannel> SecureOutboundAsync(IDuplexPipe connection, PeerId? expectedRemotePeer, CancellationToken cancellationToken = default) =>
        ExchangeAsync(connection, expectedRemotePeer, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<SecuredChannel> SecureInboundAsync(IDuplexPipe connection, CancellationToken cancellationToken = default) =>
        ExchangeAsync(connection, null, cancellationToken);

    private async ValueTask<SecuredChannel> ExchangeAsync(IDuplexPipe connection, PeerId? expectedRemotePeer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            // Both sides send at once ("both peers immediately send an Exchange message"), then read.
            await LengthPrefixedMessages.WriteAsync(connection.Output, _local, PlaintextExchangeCodec.Instance, cancellationToken);
            var remote = await LengthPrefixedMessages.ReadRequiredAsync(connection.Input, PlaintextExchangeCodec.Instance, cancellationToken);
            if (expectedRemotePeer is not null && remote.PeerId != expectedRemotePeer)
            {
                throw new PeerIdMismatchException(expectedRemotePeer, remote.PeerId);
            }

            return new SecuredChannel(connection, remote.PeerId, remote.PublicKey, EarlyMuxer: null);
        }
        catch (Exception ex)
        {
            await connection.Input.CompleteAsync();
            await connection.Output.CompleteAsync(ex);
            throw;
        }
    }
}
