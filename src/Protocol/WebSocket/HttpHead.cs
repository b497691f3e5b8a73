using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace ToolNet.Protocol.WebSocket;

/// <summary>One header field of an HTTP/1.1 message head: its name and its value without surrounding whitespace.
/// Both are the bytes of the wire form read as Latin-1 (RFC 9110 section 5.5 allows octets above 0x7F in values).</summary>
public readonly record struct HttpHeaderField(string Name, string Value);

/// <summary>
/// The head of an HTTP/1.1 message (RFC 9112): a start line and header fields, no body. Only what the WebSocket
/// opening handshake needs; every instance is well-formed, so it can be written and read back unchanged.
/// </summary>
public abstract class HttpMessageHead
{
    private protected HttpMessageHead(string version, IEnumerable<HttpHeaderField> headers)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(headers);
        if (!HttpSyntax.IsVersion(version))
        {
            throw new ArgumentException($"'{version}' is not an HTTP version of the form HTTP/d.d", nameof(version));
        }

        Version = version;
        Headers = [.. headers];
        if (Headers.Length > HttpHeadCodec.MaxHeaderCount)
        {
            throw new ArgumentException($"{Headers.Length} header fields, over the {HttpHeadCodec.MaxHeaderCount} limit", nameof(headers));
        }

        foreach (var (name, value) in Headers)
        {
            if (name is null || !HttpSyntax.IsToken(name))
            {
                throw new ArgumentException($"'{name}' is not a header field name (an HTTP token)", nameof(headers));
            }

            if (value is null || !HttpSyntax.IsFieldValue(value))
            {
                throw new ArgumentException($"the value of '{name}' has a control character, a character above U+00FF, or surrounding whitespace", nameof(headers));
            }
        }
    }

    /// <summary>The protocol version, for example <c>HTTP/1.1</c>.</summary>
    public string Version { get; }

    /// <summary>The header fields in order, repeated names included.</summary>
    public ImmutableArray<HttpHeaderField> Headers { get; }

    /// <summary>Gets the value of the header field <paramref name="name"/> (compared case-insensitively) when it
    /// occurs exactly once.</summary>
    public bool TryGetSingle(string name, [NotNullWhen(true)] out string? value)
    {
        value = null;
        foreach (var header in Headers)
        {
            if (string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                if (value is not null)
                {
                    value = null;
                    return false;
                }

                value = header.Value;
            }
        }

        return value is not null;
    }

    /// <summary>Whether <paramref name="token"/> is one of the comma-separated elements of the header fields named
    /// <paramref name="name"/> (both compared case-insensitively), as in <c>Connection: keep-alive, Upgrade</c>.</summary>
    public bool HasToken(string name, string token)
    {
        foreach (var header in Headers)
        {
            if (!string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var element in header.Value.Split(','))
            {
                if (string.Equals(element.Trim(' ', '\t'), token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Whether the version and header fields equal <paramref name="other"/>'s exactly, in order.</summary>
    private protected bool HeadersEqual(HttpMessageHead other)
    {
        if (Version != other.Version || Headers.Length != other.Headers.Length)
        {
            return false;
        }

        for (var i = 0; i < Headers.Length; i++)
        {
            if (Headers[i] != other.Headers[i])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>An HTTP/1.1 request head: <c>METHOD target HTTP/1.1</c> and header fields.</summary>
public sealed class HttpRequestHead : HttpMessageHead, IEquatable<HttpRequestHead>
{
    /// <exception cref="ArgumentException">A part is not well-formed: the method is not a token, the target is empty
    /// or has whitespace or control characters, a header name is not a token, a value has a control character.</exception>
    public HttpRequestHead(string method, string target, IEnumerable<HttpHeaderField> headers, string version = "HTTP/1.1")
        : base(version, headers)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        if (!HttpSyntax.IsToken(method))
        {
            throw new ArgumentException($"'{method}' is not an HTTP method (a token)", nameof(method));
        }

        if (!HttpSyntax.IsRequestTarget(target))
        {
            throw new ArgumentException($"'{target}' is not a request target (visible ASCII, no spaces)", nameof(target));
        }

        Method = method;
        Target = target;
    }

    /// <summary>The method, for example <c>GET</c> (case-sensitive, RFC 9110 section 9.1).</summary>
    public string Method { get; }

    /// <summary>The request target, for example <c>/</c>.</summary>
    public string Target { get; }

    public bool Equals(HttpRequestHead? other) =>
        other is not null && Method == other.Method && Target == other.Target && HeadersEqual(other);

    public override bool Equals(object? obj) => Equals(obj as HttpRequestHead);

    public override int GetHashCode() => HashCode.Combine(Method, Target, Version, Headers.Length);

    public override string ToString() => $"{Method} {Target} {Version} ({Headers.Length} header fields)";
}

/// <summary>An HTTP/1.1 response head: <c>HTTP/1.1 code reason</c> and header fields.</summary>
public sealed class HttpResponseHead : HttpMessageHead, IEquatable<HttpResponseHead>
{
    /// <exception cref="ArgumentException">The status code is not three digits, the reason phrase has a control
    /// character, or a header field is not well-formed.</exception>
    public HttpResponseHead(int statusCode, string reasonPhrase, IEnumerable<HttpHeaderField> headers, string version = "HTTP/1.1")
        : base(version, headers)
    {
        ArgumentNullException.ThrowIfNull(reasonPhrase);
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(statusCode, 999);
        if (!HttpSyntax.IsReasonPhrase(reasonPhrase))
        {
            throw new ArgumentException("the reason phrase has a control character or a character above U+00FF", nameof(reasonPhrase));
        }

        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase;
    }

    /// <summary>The three-digit status code, for example 101.</summary>
    public int StatusCode { get; }

    /// <summary>The reason phrase, for example <c>Switching Protocols</c>; may be empty.</summary>
    public string ReasonPhrase { get; }

    public bool Equals(HttpResponseHead? other) =>
        other is not null && StatusCode == other.StatusCode && ReasonPhrase == other.ReasonPhrase && HeadersEqual(other);

    public override bool Equals(object? obj) => Equals(obj as HttpResponseHead);

    public override int GetHashCode() => HashCode.Combine(StatusCode, ReasonPhrase, Version, Headers.Length);

    public override string ToString() => $"{Version} {StatusCode} {ReasonPhrase} ({Headers.Length} header fields)";
}
