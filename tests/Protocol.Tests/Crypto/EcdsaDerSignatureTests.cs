using FsCheck.Xunit;
using ToolNet.Protocol.Crypto;

namespace ToolNet.Protocol.Tests.Crypto;

public class EcdsaDerSignatureTests
{
    [Fact]
    public void Encodes_minimal_positive_integers()
    {
        byte[] r = [0x00, 0x00, 0x80, 0x01];
        byte[] s = [0x00, 0x00, 0x00, 0x7f];
        Assert.Equal("3008020300800102017f", Convert.ToHexStringLower(EcdsaDerSignature.Encode(r, s)));
        Assert.Equal("3006020100020100", Convert.ToHexStringLower(EcdsaDerSignature.Encode([0], [])));
    }

    [Fact]
    public void Uses_the_long_length_form_for_P521_sized_signatures()
    {
        var r = Enumerable.Repeat((byte)0xff, 66).ToArray();
        var der = EcdsaDerSignature.Encode(r, r);
        Assert.Equal([0x30, 0x81, 2 * (2 + 67)], der[..3]);
        var (decodedR, decodedS) = (new byte[66], new byte[66]);
        Assert.True(EcdsaDerSignature.TryDecode(der, decodedR, decodedS));
        Assert.Equal(r, decodedR);
        Assert.Equal(r, decodedS);
    }

    [Theory]
    [InlineData("3006020101020101", true)]
    [InlineData("300702020080020101", true)]
    [InlineData("31060201010201 01", false)] // not a SEQUENCE
    [InlineData("300602010102010100", false)] // trailing byte after the SEQUENCE
    [InlineData("3007020101020101", false)] // SEQUENCE length beyond the end
    [InlineData("30080201010201010000", false)] // bytes inside the SEQUENCE after s
    [InlineData("30070202000102 0101", false)] // r with a needless leading zero
    [InlineData("3006020181020101", false)] // negative r
    [InlineData("3005020002 0101", false)] // empty r
    [InlineData("308106020101020101", false)] // long length form for a short length
    [InlineData("3082000602010102 0101", false)] // two-byte length form
    [InlineData("3006030101020101", false)] // r is not an INTEGER
    [InlineData("30", false)]
    [InlineData("", false)]
    public void Decodes_only_strict_DER(string hex, bool valid)
    {
        var bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        Assert.Equal(valid, EcdsaDerSignature.TryDecode(bytes, new byte[32], new byte[32]));
    }

    [Fact]
    public void Rejects_integers_longer_than_the_scalar()
    {
        var der = EcdsaDerSignature.Encode(Enumerable.Repeat((byte)1, 33).ToArray(), [1]);
        Assert.False(EcdsaDerSignature.TryDecode(der, new byte[32], new byte[32]));
        Assert.True(EcdsaDerSignature.TryDecode(der, new byte[33], new byte[33]));
    }

    [Property]
    public void Round_trips(byte[] r, byte[] s)
    {
        // Up to 66-byte scalars (P-521), the largest libp2p uses.
        r = r.Take(66).ToArray();
        s = s.Take(66).ToArray();
        var length = Math.Max(1, Math.Max(r.Length, s.Length));
        var der = EcdsaDerSignature.Encode(r, s);
        var (decodedR, decodedS) = (new byte[length], new byte[length]);

        Assert.True(EcdsaDerSignature.TryDecode(der, decodedR, decodedS));
        Assert.Equal(Padded(r, length), decodedR);
        Assert.Equal(Padded(s, length), decodedS);
        Assert.Equal(der, EcdsaDerSignature.Encode(decodedR, decodedS));
    }

    [Property]
    public void Arbitrary_bytes_decode_or_are_refused_without_throwing(byte[] bytes)
    {
        EcdsaDerSignature.TryDecode(bytes, new byte[32], new byte[32]);
    }

    private static byte[] Padded(byte[] value, int length)
    {
        var result = new byte[length];
        value.CopyTo(result, length - value.Length);
        return result;
    }
}
