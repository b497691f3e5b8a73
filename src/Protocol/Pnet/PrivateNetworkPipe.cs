using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace ToolNet.Protocol.Pnet;

/// <summary>
/// A raw connection inside a private network (libp2p/specs pnet, "Algorithm"): each direction starts with a random
/// 24-byte nonce, then every byte is XORed with the XSalsa20 key stream of the pre-shared key and that nonce. There is
/// no handshake and no authentication: with another key the remote's bytes decrypt to noise, which the multistream
/// header check above us then refuses. Both directions transform bytes in place in the transport's own buffers, so
/// the layer costs no copy.
/// </summary>
internal sealed class PrivateNetworkPipe : IDuplexPipe
{
    /// <summary>XSalsa20's nonce length, sent first in each direction.</summary>
    public const int NonceLength = 24;

    private PrivateNetworkPipe(IDuplexPipe raw, PreSharedKey key)
    {
        Input = new DecryptingReader(raw.Input, key);
        Output = new EncryptingWriter(raw.Output, key);
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>Wraps <paramref name="raw"/> and sends our nonce at once: a peer may wait for it before it sends
    /// anything (the spec's writer starts with <c>write(out, N)</c>), and we may be waiting for its first bytes.</summary>
    public static async ValueTask<PrivateNetworkPipe> StartAsync(IDuplexPipe raw, PreSharedKey key, CancellationToken cancellationToken)
    {
        var pipe = new PrivateNetworkPipe(raw, key);
        var flush = await pipe.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return flush.IsCompleted ? throw new IOException("the connection closed before our private network nonce was sent") : pipe;
    }

    internal static XSalsa20Engine CreateCipher(PreSharedKey key, ReadOnlySpan<byte> nonce)
    {
        var cipher = new XSalsa20Engine();
        cipher.Init(forEncryption: true, new ParametersWithIV(new KeyParameter(key.Key), nonce));
        return cipher;
    }

    /// <summary>Encrypts what the layer above writes, in the buffer it wrote it to, when it calls Advance.</summary>
    private sealed class EncryptingWriter : PipeWriter
    {
        private readonly PipeWriter _inner;
        private readonly XSalsa20Engine _cipher;
        private Memory<byte> _lent;

        public EncryptingWriter(PipeWriter inner, PreSharedKey key)
        {
            _inner = inner;
            Span<byte> nonce = stackalloc byte[NonceLength];
            RandomNumberGenerator.Fill(nonce);
            _cipher = CreateCipher(key, nonce);

            // Ahead of the first encrypted byte; StartAsync flushes it.
            inner.Write(nonce);
        }

        public override bool CanGetUnflushedBytes => _inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => _inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = _inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            if ((uint)bytes > (uint)_lent.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "advanced past the memory that was handed out");
            }

            var written = _lent.Span[..bytes];
            _cipher.ProcessBytes(written, written);
            _lent = _lent[bytes..];
            _inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => _inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => _inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => _inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);
    }

    /// <summary>
    /// Reads the remote's nonce, then decrypts each newly arrived byte once, in place in the transport's buffer. The
    /// count of decrypted bytes at the front of the unconsumed buffer carries over from read to read.
    /// </summary>
    private sealed class DecryptingReader(PipeReader inner, PreSharedKey key) : PipeReader
    {
        private XSalsa20Engine? _cipher;
        private ReadOnlySequence<byte> _lastBuffer;
        private long _decrypted;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            while (_cipher is null)
            {
                var nonceRead = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (TryTakeNonce(nonceRead, out var early))
                {
                    break;
                }

                if (early is { } ended)
                {
                    return ended;
                }
            }

            var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
            return Decrypted(result);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (_cipher is null)
            {
                if (!inner.TryRead(out var nonceRead) || !TryTakeNonce(nonceRead, out _))
                {
                    result = default;
                    return false;
                }

                if (!inner.TryRead(out result))
                {
                    return false;
                }
            }
            else if (!inner.TryRead(out result))
            {
                return false;
            }

            result = Decrypted(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            _decrypted -= _lastBuffer.Slice(0, consumed).Length;
            _lastBuffer = default;
            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        /// <summary>Takes the nonce off the front of <paramref name="read"/> once all of it is there. Otherwise leaves
        /// the bytes unconsumed; <paramref name="ended"/> is then the read to pass up when the connection ended before
        /// any byte came.</summary>
        /// <exception cref="IOException">The connection ended inside the nonce.</exception>
        private bool TryTakeNonce(ReadResult read, out ReadResult? ended)
        {
            ended = null;
            var buffer = read.Buffer;
            if (buffer.Length >= NonceLength)
            {
                Span<byte> nonce = stackalloc byte[NonceLength];
                buffer.Slice(0, NonceLength).CopyTo(nonce);
                _cipher = CreateCipher(key, nonce);
                inner.AdvanceTo(buffer.GetPosition(NonceLength));
                return true;
            }

            inner.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCanceled || (read.IsCompleted && buffer.IsEmpty))
            {
                ended = read;
            }
            else if (read.IsCompleted)
            {
                throw new IOException($"the connection ended {buffer.Length} bytes into the private network nonce");
            }

            return false;
        }

        private ReadResult Decrypted(ReadResult result)
        {
            var buffer = result.Buffer;
            foreach (var segment in buffer.Slice(_decrypted))
            {
                // The transport's buffers are ours to change until we advance past them; read-only only by type.
                var bytes = MemoryMarshal.AsMemory(segment).Span;
                _cipher!.ProcessBytes(bytes, bytes);
            }

            _decrypted = buffer.Length;
            _lastBuffer = buffer;
            return result;
        }
    }
}
