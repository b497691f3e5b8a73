using System.Text;
using ToolNet.Protocol.Addressing;
using ToolNet.Protocol.Echo;
using ToolNet.Protocol.Host;
using ToolNet.Protocol.Multistream;
using ToolNet.Protocol.Pnet;
using ToolNet.Protocol.Tests.Host;

namespace ToolNet.Protocol.Tests.Pnet;

public class PrivateNetworkTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_key_file_reads_in_base16_base64_and_bin_and_writes_base16()
    {
        var key = PreSharedKey.Generate();
        var hex = PreSharedKey.Parse(Encoding.ASCII.GetBytes(key.ToFileText()));
        var base64 = PreSharedKey.Parse(Encoding.ASCII.GetBytes($"/key/swarm/psk/1.0.0/\r\n/base64/\r\n{Convert.ToBase64String(key.Key)}\r\n"));
        var bin = PreSharedKey.Parse([.. "/key/swarm/psk/1.0.0/\n/bin/\n"u8, .. key.Key]);

        Assert.True(hex.Key.SequenceEqual(key.Key));
        Assert.True(base64.Key.SequenceEqual(key.Key));
        Assert.True(bin.Key.SequenceEqual(key.Key));
        Assert.Equal(key.Fingerprint, hex.Fingerprint);
        Assert.DoesNotContain(Convert.ToHexStringLower(key.Key), key.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/key/swarm/psk/2.0.0/\n/base16/\n00", "starts with the line /key/swarm/psk/1.0.0/")]
    [InlineData("/key/swarm/psk/1.0.0/\n/base58/\n00", "unknown key encoding '/base58/'")]
    [InlineData("/key/swarm/psk/1.0.0/\n/base16/\nzz", "not valid base16")]
    [InlineData("/key/swarm/psk/1.0.0/\n/base16/\n0011", "the key is 2 bytes; a private network key is 32")]
    public void A_bad_key_file_is_refused_with_the_reason(string file, string reason)
    {
        var refused = Assert.Throws<FormatException>(() => PreSharedKey.Parse(Encoding.ASCII.GetBytes(file)));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Members_of_one_private_network_connect_and_talk()
    {
        var key = PreSharedKey.Generate();
        await using var a = await StartAsync(key);
        await using var b = await StartAsync(PreSharedKey.FromBytes(key.Key));
        using var echo = new EchoService(b);

        var connection = await a.ConnectAsync(TestHosts.DialAddress(b)).AsTask().WaitAsync(Patience);
        var payload = new byte[200_000];
        Random.Shared.NextBytes(payload);

        Assert.Equal(payload, await EchoService.EchoAsync(connection, payload).WaitAsync(Patience));
    }

    [Fact]
    public async Task Another_key_fails_fast_with_a_private_network_error()
    {
        await using var a = await StartAsync(PreSharedKey.Generate());
        await using var b = await StartAsync(PreSharedKey.Generate());

        var failure = await Assert.ThrowsAnyAsync<Exception>(async () => await a.ConnectAsync(TestHosts.DialAddress(b)).AsTask().WaitAsync(Patience));

        Assert.True(Find<PrivateNetworkMismatchException>(failure) is not null, failure.ToString());
        Assert.Empty(a.GetConnections());
        Assert.Empty(b.GetConnections());
    }

    [Fact]
    public async Task A_public_node_and_a_private_one_cannot_connect_either_way()
    {
        await using var member = await StartAsync(PreSharedKey.Generate());
        await using var outsider = await TestHosts.StartAsync();

        var fromMember = await Assert.ThrowsAnyAsync<Exception>(async () => await member.ConnectAsync(TestHosts.DialAddress(outsider)).AsTask().WaitAsync(Patience));
        var fromOutsider = await Assert.ThrowsAnyAsync<Exception>(async () => await outsider.ConnectAsync(TestHosts.DialAddress(member)).AsTask().WaitAsync(Patience));

        Assert.True(Find<PrivateNetworkMismatchException>(fromMember) is not null, fromMember.ToString());
        Assert.True(
            Find<ProtocolNegotiationException>(fromOutsider) is not null || fromOutsider is IOException,
            $"the outsider failed with {fromOutsider}");
    }

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }

            if (e is DialException dial)
            {
                foreach (var (_, error) in dial.Attempts)
                {
                    if (Find<T>(error) is { } nested)
                    {
                        return nested;
                    }
                }
            }
        }

        return null;
    }

    private static Task<Libp2pHost> StartAsync(PreSharedKey key) =>
        TestHosts.StartAsync(options => options with { PrivateNetwork = new PrivateNetworkProtector(key) });
}
