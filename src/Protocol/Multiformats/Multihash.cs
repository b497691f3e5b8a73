using System.Security.Cryptography;

namespace ToolNet.Protocol.Multiformats;

/// <summary>Multihash function codes from the multicodec table that ToolNet names.</summary>
public static class MultihashCode
{
    public const ulong Identity = 0x00;
    public const ulong Sha1 = 0x11;
    public const ulong Sha2_256 = 0x12;
    public const ulong Sha2_512 = 0x13;
    public const ulong Sha3_512 = 0x14;
    public const ulong Sha3_384 = 0x15;
    public const ulong Sha3_256 = 0x16;
    public const ulong Sha3_224 = 0x17;
    public const ulong Blake2b_256 = 0xb220;
}

/// <summary>
/// A self-describing hash: varint function code, varint digest length, digest. Any code parses and
/// round-trips; <see cref="Compute"/> supports identity, sha2-256 and sha2-512.
/// </summary>
public sealed class Multihash : IEquatable<Multihash>
{
    /// <summary>The largest digest accepted when decoding. Identity multihashes carry whole keys, so this is
    /// generous, but it bounds what a remote can make us hold.</summary>
    public const int MaxDigestLength = 4096;

    private readonly byte[] _bytes;
    private readonly int _digestOffset;

    private Multihash(ulong code, byte[] bytes, int digestOffset)
    {
        Code = code;
        _bytes = bytes;
        _digestOffset = digestOffset;
    }

    /// <summary>The hash function's multicodec code.</summary>
    public ulong Code { get; }

    /// <summary>The digest without code and length.</summary>
    public ReadOnlySpan<byte> Digest => _bytes.AsSpan(_digestOffset);

    /// <summary>The whole encoding: code, length, digest.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Wraps an existing digest.</summary>
    public static Multihash Create(ulong code, ReadOnlySpan<byte> digest)
    {
        if (digest.Length > MaxDigestLength)
        {
            throw new ArgumentException($"digest is longer than {MaxDigestLength} bytes", nameof(digest));
        }

        var header = Varint.SizeOf(code) + Varint.SizeOf((ulong)digest.Length);
        var bytes = new byte[header + digest.Length];
        var offset = Varint.Write(bytes, code);
        offset += Varint.Write(bytes.AsSpan(offset), (ulong)digest.Length);
        digest.CopyTo(bytes.AsSpan(offset));
        return new Multihash(code, bytes, offset);
    }

    /// <summary>Hashes <paramref name="data"/> with the function <paramref name="code"/>.</summary>
    /// <exception cref="NotSupportedException">ToolNet cannot compute that function.</exception>
    public static Multihash Compute(ulong code, ReadOnlySpan<byte> data) => code switch
    {
        MultihashCode.Identity => Create(code, data),
        MultihashCode.Sha2_256 => Create(code, SHA256.HashData(data)),
        MultihashCode.Sha2_512 => Create(code, SHA512.HashData(data)),
        _ => throw new NotSupportedException($"multihash function 0x{code:x} cannot be computed"),
    };

    /// <summary>Decodes a multihash that fills <paramref name="data"/> exactly.</summary>
    /// <exception cref="WireFormatException">Truncated, trailing bytes, or a digest over <see cref="MaxDigestLength"/>.</exception>
    public static Multihash Decode(ReadOnlySpan<byte> data)
    {
        var multihash = Read(data, out var consumed);
        if (consumed != data.Length)
        {
            throw new WireFormatException("multihash has trailing bytes");
        }

        return multihash;
    }

    /// <summary>Reads a multihash from the start of <paramref name="data"/>.</summary>
    /// <exception cref="WireFormatException">Truncated or a digest over <see cref="MaxDigestLength"/>.</exception>
    public static Multihash Read(ReadOnlySpan<byte> data, out int bytesRead)
    {
        var code = Varint.Read(data, out var codeLength);
        var length = Varint.Read(data[codeLength..], out var lengthLength);
        var offset = codeLength + lengthLength;
        if (length > MaxDigestLength)
        {
            throw new WireFormatException($"multihash digest length {length} exceeds {MaxDigestLength}");
        }

        if ((ulong)(data.Length - offset) < length)
        {
            throw new WireFormatException($"multihash declares {length} digest bytes but {data.Length - offset} follow");
        }

        bytesRead = offset + (int)length;
        return new Multihash(code, data[..bytesRead].ToArray(), offset);
    }

    /// <summary>The function's name from the multicodec table, or its hex code.</summary>
    public string FunctionName => Code switch
    {
        MultihashCode.Identity => "identity",
        MultihashCode.Sha1 => "sha1",
        MultihashCode.Sha2_256 => "sha2-256",
        MultihashCode.Sha2_512 => "sha2-512",
        MultihashCode.Sha3_512 => "sha3-512",
        MultihashCode.Sha3_384 => "sha3-384",
        MultihashCode.Sha3_256 => "sha3-256",
        MultihashCode.Sha3_224 => "sha3-224",
        MultihashCode.Blake2b_256 => "blake2b-256",
        _ => $"0x{Code:x}",
    };

    public bool Equals(Multihash? other) => other is not null && Bytes.SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => Equals(obj as Multihash);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    public override string ToString() => $"{FunctionName}:{Convert.ToHexStringLower(Digest)}";
}
