using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Core;
using ToolNet.Protocol.Tcp;
using PipePair = ToolNet.Protocol.Tests.Multistream.PipePair;

namespace ToolNet.Protocol.Tests.Tcp;

/// <summary>Helpers the TCP and WebSocket transport tests share: pairs of connections, deterministic bulk data with
/// checksums, reading to the end.</summary>
internal static class TransportTestKit
{
    /// <summary>A token that ends a hung test instead of letting it run forever; no test relies on its timing.</summary>
    public static CancellationToken Guard() => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    /// <summary>Listens on <paramref name="listenAddress"/>, dials the bound address and accepts.</summary>
    public static async Task<ConnectedPair> ConnectAsync(ITransport transport, string listenAddress, ITransport? dialer = null)
    {
        var listener = await transport.ListenAsync(Multiaddr.Parse(listenAddress), Guard());
        var accepting = listener.AcceptAsync(Guard()).AsTask();
        var client = await (dialer ?? transport).DialAsync(listener.ListenAddress, TransportDialOptions.Default, Guard());
        var server = await accepting;
        Assert.NotNull(server);
        return new ConnectedPair(listener, client, server);
    }

    /// <summary>Writes <paramref name="length"/> pseudo-random bytes from <paramref name="seed"/> in writes of varying
    /// size (each flushed), then completes <paramref name="writer"/>; returns their SHA-256.</summary>
    public static async Task<byte[]> WriteRandomAsync(PipeWriter writer, long length, int seed)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long written = 0; written < length;)
        {
            var size = (int)Math.Min(length - written, random.Next(1, 96 * 1024));
            var memory = writer.GetMemory(size)[..size];
            random.NextBytes(memory.Span);
            hash.AppendData(memory.Span);
            writer.Advance(size);
            written += size;
            await writer.FlushAsync(Guard());
        }

        await writer.CompleteAsync();
        return hash.GetHashAndReset();
    }

    /// <summary>Reads <paramref name="reader"/> to its end and completes it; returns the byte count and SHA-256.</summary>
    public static async Task<(long Length, byte[] Hash)> ReadToEndAsync(PipeReader reader)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        while (true)
        {
            var result = await reader.ReadAsync(Guard());
            foreach (var segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
            }

            length += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return (length, hash.GetHashAndReset());
            }
        }
    }

    /// <summary>Reads until <paramref name="reader"/> fails, and returns the failure.</summary>
    public static async Task<IOException> ReadUntilFailureAsync(PipeReader reader)
    {
        return await Assert.ThrowsAsync<IOException>(async () =>
        {
            while (true)
            {
                var result = await reader.ReadAsync(Guard());
                reader.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted, "the input ended cleanly instead of failing");
            }
        });
    }

    /// <summary>True when a socket can bind the IPv6 loopback address here.</summary>
    public static bool Ipv6LoopbackAvailable()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return false;
        }

        try
        {
            using var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A listener with a connection dialled to it and the accepted end.</summary>
    public sealed record ConnectedPair(ITransportListener Listener, ITransportConnection Client, ITransportConnection Server) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Abort();
            Server.Abort();
            await Client.DisposeAsync();
            await Server.DisposeAsync();
            await Listener.DisposeAsync();
        }
    }
}

/// <summary>A fact that is skipped where the IPv6 loopback address cannot be bound.</summary>
public sealed class Ipv6FactAttribute : FactAttribute
{
    public Ipv6FactAttribute()
    {
        if (!TransportTestKit.Ipv6LoopbackAvailable())
        {
            Skip = "the IPv6 loopback address ::1 is not available on this machine";
        }
    }
}
