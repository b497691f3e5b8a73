using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace ToolNet.Protocol.WebSocket;

/// <summary>
/// The WebSocket opening handshake of RFC 6455 section 4 over <see cref="HttpHeadCodec"/> heads: the client's
/// upgrade request, the server's judgement of it (101 Switching Protocols or a refusal) and the client's check of
/// the answer. Pure: no I/O. No subprotocol and no extension (permessage-deflate included) is ever negotiated;
/// requests offering some are accepted without them (section 4.2.2 lets the server ignore them).
/// </summary>
public static class WebSocketHandshake
{
    /// <summary>The GUID appended to the key before hashing (RFC 6455 section 1.3).</summary>
    public const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The only protocol version (RFC 6455 section 4.1, item 9).</summary>
    public const string Version = "13";

    /// <summary>A fresh <c>Sec-WebSocket-Key</c>: 16 random bytes in base64 (RFC 6455 section 4.1, item 7).</summary>
    public static string CreateKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    /// <summary>The <c>Sec-WebSocket-Accept</c> for <paramref name="key"/>: base64(SHA-1(key + GUID)) (section 4.2.2).</summary>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // SHA-1 is what RFC 6455 prescribes here; it is a checksum of the handshake, not security.
        SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid), hash);
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    /// <summary>The client's upgrade request for <paramref name="target"/> on <paramref name="host"/>
    /// (<c>host:port</c>, IPv6 in brackets) with <paramref name="key"/>.</summary>
    public static HttpRequestHead CreateRequest(string host, string target, string key) => new(
        "GET",
        target,
        [
            new("Host", host),
            new("Upgrade", "websocket"),
            new("Connection", "Upgrade"),
            new("Sec-WebSocket-Key", key),
            new("Sec-WebSocket-Version", Version),
        ]);

    /// <summary>
    /// Judges an upgrade request (RFC 6455 section 4.2.1): a GET of HTTP/1.1 or later with one <c>Host</c>,
    /// <c>Upgrade</c> naming <c>websocket</c>, <c>Connection</c> naming <c>upgrade</c>, one
    /// <c>Sec-WebSocket-Key</c> of 16 bytes in base64, and <c>Sec-WebSocket-Version: 13</c>. Other header fields
    /// (<c>Origin</c>, <c>User-Agent</c>, <c>Sec-WebSocket-Extensions</c>, …) are ignored.
    /// </summary>
    /// <param name="response">The answer to send: 101 with <c>Sec-WebSocket-Accept</c>, or a refusal (400 Bad Request;
    /// 426 with <c>Sec-WebSocket-Version: 13</c> for another version, section 4.4) that closes the connection.</param>
    /// <param name="refusal">Why the request was refused, for logs; null when accepted.</param>
    /// <returns>True when the request is accepted.</returns>
    public static bool TryAccept(HttpRequestHead request, out HttpResponseHead response, [NotNullWhen(false)] out string? refusal)
    {
        ArgumentNullException.ThrowIfNull(request);
        refusal = Judge(request, out var key, out var versionRefused);
        if (refusal is null)
        {
            response = new HttpResponseHead(101, "Switching Protocols",
            [
                new("Upgrade", "websocket"),
                new("Connection", "Upgrade"),
                new("Sec-WebSocket-Accept", ComputeAccept(key!)),
            ]);
            return true;
        }

        response = versionRefused ? UpgradeRequired : BadRequest;
        return false;
    }

    /// <summary>400 Bad Request, closing the connection: the answer to a malformed or unacceptable request.</summary>
    public static HttpResponseHead BadRequest { get; } =
        new(400, "Bad Request", [new("Connection", "close"), new("Content-Length", "0")]);

    /// <summary>426 Upgrade Required with <c>Sec-WebSocket-Version: 13</c>, closing the connection: the answer to a
    /// request for another protocol version (RFC 6455 section 4.4).</summary>
    public static HttpResponseHead UpgradeRequired { get; } =
        new(426, "Upgrade Required", [new("Sec-WebSocket-Version", Version), new("Connection", "close"), new("Content-Length", "0")]);

    /// <summary>
    /// Checks the server's answer to a request made with <paramref name="key"/> (RFC 6455 section 4.1, client
    /// requirements 1-6): 101, <c>Upgrade: websocket</c>, <c>Connection: upgrade</c>, the right
    /// <c>Sec-WebSocket-Accept</c>, and no extension or subprotocol, since none was offered.
    /// </summary>
    /// <returns>Null when the answer accepts the upgrade, otherwise what is wrong with it.</returns>
    public static string? CheckResponse(HttpResponseHead response, string key)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(key);
        if (response.StatusCode != 101)
        {
            return $"the server answered {response.StatusCode} {response.ReasonPhrase} instead of 101 Switching Protocols";
        }

        if (!response.HasToken("Upgrade", "websocket"))
        {
            return "the answer's Upgrade header field does not name websocket";
        }

        if (!response.HasToken("Connection", "upgrade"))
        {
            return "the answer's Connection header field does not name upgrade";
        }

        if (!response.TryGetSingle("Sec-WebSocket-Accept", out var accept) || accept != ComputeAccept(key))
        {
            return "the answer's Sec-WebSocket-Accept is missing or does not match the key";
        }

        if (response.Headers.Any(h => IsNamed(h, "Sec-WebSocket-Extensions")))
        {
            return "the answer selects an extension, but none was offered";
        }

        return response.Headers.Any(h => IsNamed(h, "Sec-WebSocket-Protocol"))
            ? "the answer selects a subprotocol, but none was offered"
            : null;
    }

    private static string? Judge(HttpRequestHead request, out string? key, out bool versionRefused)
    {
        key = null;
        versionRefused = false;
        if (request.Method != "GET")
        {
            return $"the method is {request.Method}, not GET";
        }

        // HTTP/1.1 or a later HTTP/1.x (section 4.1, item 2); IsVersion already checked the form HTTP/d.d.
        if (request.Version[5] != '1' || request.Version[7] == '0')
        {
            return $"the version is {request.Version}; a WebSocket upgrade needs HTTP/1.1";
        }

        if (!request.TryGetSingle("Host", out _))
        {
            return "there must be exactly one Host header field";
        }

        if (!request.HasToken("Upgrade", "websocket"))
        {
            return "the Upgrade header field does not name websocket";
        }

        if (!request.HasToken("Connection", "upgrade"))
        {
            return "the Connection header field does not name upgrade";
        }

        if (!request.TryGetSingle("Sec-WebSocket-Key", out key) || !IsValidKey(key))
        {
            key = null;
            return "there must be one Sec-WebSocket-Key of 16 bytes in base64";
        }

        if (!request.TryGetSingle("Sec-WebSocket-Version", out var version) || version != Version)
        {
            versionRefused = true;
            return $"Sec-WebSocket-Version must be {Version}";
        }

        return null;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> nonce = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, nonce, out var length) && length == 16;
    }

    private static bool IsNamed(HttpHeaderField header, string name) => string.Equals(header.Name, name, StringComparison.OrdinalIgnoreCase);
}
