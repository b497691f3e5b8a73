using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace ToolNet.Protocol.Tests.Noise;

/// <summary>A raw TCP transport for tests, bound to 127.0.0.1 only: a receive loop fills <see cref="Input"/>, a send
/// loop drains <see cref="Output"/>; completing <see cref="Output"/> shuts down the sending half of the socket.</summary>
internal sealed class LoopbackSocketTransport : IDuplexPipe, IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Pipe _received = new();
    private readonly Pipe _toSend = new();
    private readonly Task _receiving;
    private readonly Task _sending;

    private LoopbackSocketTransport(Socket socket)
    {
        _socket = socket;
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    public PipeReader Input => _received.Reader;

    public PipeWriter Output => _toSend.Writer;

    public static async Task<(LoopbackSocketTransport Client, LoopbackSocketTransport Server)> ConnectAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await accepting;
        server.NoDelay = true;
        return (new LoopbackSocketTransport(client), new LoopbackSocketTransport(server));
    }

    public async ValueTask DisposeAsync()
    {
        _toSend.Reader.CancelPendingRead();
        _socket.Dispose();
        await Task.WhenAll(_receiving, _sending);
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = _received.Writer.GetMemory(64 * 1024);
                var count = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (count == 0)
                {
                    break;
                }

                _received.Writer.Advance(count);
                if ((await _received.Writer.FlushAsync()).IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // As NetworkStream does: a reset or closed socket reads as an IOException.
            error = new IOException($"the loopback connection failed: {ex.Message}", ex);
        }

        await _received.Writer.CompleteAsync(error);
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _toSend.Reader.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    await _socket.SendAsync(segment, SocketFlags.None);
                }

                _toSend.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCanceled)
                {
                    return;
                }

                if (result.IsCompleted)
                {
                    _socket.Shutdown(SocketShutdown.Send);
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // The writer completed with an error (the secured pipe aborted) or the socket failed: reset the connection.
            error = ex;
            _socket.Close(0);
        }

        await _toSend.Reader.CompleteAsync(error);
    }
}
