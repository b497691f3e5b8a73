namespace ToolNet.Protocol.Noise;

/// <summary>The two transport cipher states of one side after the handshake: <see cref="Sender"/> encrypts what we
/// send, <see cref="Receiver"/> decrypts what we receive.</summary>
public readonly record struct TransportCipherPair(CipherState Sender, CipherState Receiver);
