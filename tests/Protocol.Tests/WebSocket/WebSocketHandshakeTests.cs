using ToolNet.Protocol.WebSocket;

namespace ToolNet.Protocol.Tests.WebSocket;

public class WebSocketHandshakeTests
{
    // RFC 6455 section 1.3: the worked example of the accept value.
    private const string RfcKey = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string RfcAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    [Fact]
    public void Computes_the_accept_value_of_the_RFC_example()
    {
        Assert.Equal(RfcAccept, WebSocketHandshake.ComputeAccept(RfcKey));
    }

    [Fact]
    public void A_fresh_key_is_16_random_bytes_in_base64()
    {
        var key = WebSocketHandshake.CreateKey();
        Assert.Equal(16, Convert.FromBase64String(key).Length);
        Assert.NotEqual(key, WebSocketHandshake.CreateKey());
    }

    [Fact]
    public void Our_request_is_accepted_and_the_answer_passes_our_check()
    {
        var key = WebSocketHandshake.CreateKey();
        var request = WebSocketHandshake.CreateRequest("[::1]:4001", "/", key);
        Assert.True(WebSocketHandshake.TryAccept(request, out var response, out var refusal));
        Assert.Null(refusal);
        Assert.Equal(101, response.StatusCode);
        Assert.Null(WebSocketHandshake.CheckResponse(response, key));
        Assert.NotNull(WebSocketHandshake.CheckResponse(response, WebSocketHandshake.CreateKey()));
    }

    [Fact]
    public void Accepts_a_browser_request_ignoring_origin_and_offered_extensions()
    {
        var request = Request(
            ("Host", "localhost:4001"),
            ("Connection", "keep-alive, Upgrade"),
            ("Upgrade", "WebSocket"),
            ("Origin", "https://example.com"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", RfcKey),
            ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
            ("Sec-WebSocket-Protocol", "chat"));
        Assert.True(WebSocketHandshake.TryAccept(request, out var response, out _));
        Assert.True(response.TryGetSingle("Sec-WebSocket-Accept", out var accept));
        Assert.Equal(RfcAccept, accept);
        Assert.DoesNotContain(response.Headers, h => h.Name.StartsWith("Sec-WebSocket-Extensions", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(response.Headers, h => h.Name.StartsWith("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase));
    }

    public static TheoryData<string, HttpRequestHead, int> BadRequests()
    {
        var valid = new (string, string)[]
        {
            ("Host", "a:1"), ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", RfcKey), ("Sec-WebSocket-Version", "13"),
        };
        HttpRequestHead Without(string name) => Request(valid.Where(h => h.Item1 != name).ToArray());
        HttpRequestHead With(string name, string value) => Request(valid.Select(h => h.Item1 == name ? (name, value) : h).ToArray());
        return new TheoryData<string, HttpRequestHead, int>
        {
            { "no Host", Without("Host"), 400 },
            { "two Hosts", Request([.. valid, ("Host", "b:2")]), 400 },
            { "no Upgrade", Without("Upgrade"), 400 },
            { "Upgrade: h2c", With("Upgrade", "h2c"), 400 },
            { "no Connection", Without("Connection"), 400 },
            { "Connection: keep-alive", With("Connection", "keep-alive"), 400 },
            { "no key", Without("Sec-WebSocket-Key"), 400 },
            { "short key", With("Sec-WebSocket-Key", "c2hvcnQ="), 400 },
            { "key not base64", With("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!=="), 400 },
            { "two keys", Request([.. valid, ("Sec-WebSocket-Key", RfcKey)]), 400 },
            { "no version", Without("Sec-WebSocket-Version"), 426 },
            { "version 8", With("Sec-WebSocket-Version", "8"), 426 },
            { "POST", new HttpRequestHead("POST", "/", Request(valid).Headers), 400 },
            { "HTTP/1.0", new HttpRequestHead("GET", "/", Request(valid).Headers, "HTTP/1.0"), 400 },
            { "HTTP/2.0", new HttpRequestHead("GET", "/", Request(valid).Headers, "HTTP/2.0"), 400 },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Refuses_requests_that_break_section_4_2_1(string why, HttpRequestHead request, int status)
    {
        Assert.False(WebSocketHandshake.TryAccept(request, out var response, out var refusal), why);
        Assert.False(string.IsNullOrEmpty(refusal));
        Assert.Equal(status, response.StatusCode);
        Assert.True(response.HasToken("Connection", "close"));
        if (status == 426)
        {
            Assert.True(response.TryGetSingle("Sec-WebSocket-Version", out var version));
            Assert.Equal("13", version);
        }
    }

    [Fact]
    public void Rejects_answers_that_break_section_4_1()
    {
        var good = new (string, string)[] { ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", RfcAccept) };
        Assert.Null(WebSocketHandshake.CheckResponse(Response(101, good), RfcKey));
        Assert.Contains("400", WebSocketHandshake.CheckResponse(Response(400, good), RfcKey), StringComparison.Ordinal);
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, good[1..]), RfcKey));
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, [good[0], good[2]]), RfcKey));
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, [.. good[..2], ("Sec-WebSocket-Accept", "x")]), RfcKey));
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, [.. good, ("Sec-WebSocket-Accept", RfcAccept)]), RfcKey));
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, [.. good, ("Sec-WebSocket-Extensions", "permessage-deflate")]), RfcKey));
        Assert.NotNull(WebSocketHandshake.CheckResponse(Response(101, [.. good, ("Sec-WebSocket-Protocol", "chat")]), RfcKey));
    }

    private static HttpRequestHead Request(params (string Name, string Value)[] headers) =>
        new("GET", "/", headers.Select(h => new HttpHeaderField(h.Name, h.Value)));

    private static HttpResponseHead Response(int status, (string Name, string Value)[] headers) =>
        new(status, "Whatever", headers.Select(h => new HttpHeaderField(h.Name, h.Value)));
}
