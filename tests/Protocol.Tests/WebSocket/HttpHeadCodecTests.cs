using System.Buffers;
using System.Text;
using FsCheck.Xunit;
using ToolNet.Protocol.Tests.Noise;
using ToolNet.Protocol.WebSocket;

namespace ToolNet.Protocol.Tests.WebSocket;

public class HttpHeadCodecTests
{
    // What a browser (and js-libp2p's dialer, through the ws package) sends: Host with port, Origin, extensions,
    // mixed-case Connection token lists.
    private const string BrowserRequest =
        "GET / HTTP/1.1\r\n" +
        "Host: 127.0.0.1:4001\r\n" +
        "Connection: keep-alive, Upgrade\r\n" +
        "Pragma: no-cache\r\n" +
        "Origin: http://localhost:8080\r\n" +
        "Sec-WebSocket-Version: 13\r\n" +
        "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
        "Upgrade: websocket\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
        "\r\n";

    [Fact]
    public void Reads_a_browser_upgrade_request_and_leaves_what_follows()
    {
        var input = Bytes(BrowserRequest + "\x82\x00");
        Assert.True(HttpHeadCodec.TryReadRequest(ref input, out var head));
        Assert.Equal("GET", head.Method);
        Assert.Equal("/", head.Target);
        Assert.Equal("HTTP/1.1", head.Version);
        Assert.Equal(9, head.Headers.Length);
        Assert.Equal(new HttpHeaderField("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"), head.Headers[5]);
        Assert.True(head.TryGetSingle("host", out var host));
        Assert.Equal("127.0.0.1:4001", host);
        Assert.True(head.HasToken("connection", "upgrade"));
        Assert.False(head.HasToken("Connection", "close"));
        Assert.Equal(new byte[] { 0x82, 0x00 }, input.ToArray());
    }

    [Fact]
    public void Trims_optional_whitespace_and_keeps_empty_values_and_latin1_octets()
    {
        var input = Bytes("GET /chat?x=1 HTTP/1.1\r\nA:b\r\nB: \t c d \t\r\nEmpty:\r\nLatin: caf\u00e9\r\n\r\n");
        Assert.True(HttpHeadCodec.TryReadRequest(ref input, out var head));
        Assert.Equal(
            [new("A", "b"), new("B", "c d"), new("Empty", ""), new("Latin", "caf\u00e9")],
            head.Headers.ToArray());
    }

    [Fact]
    public void Reads_status_lines_with_and_without_a_reason()
    {
        foreach (var (line, code, reason) in new[]
        {
            ("HTTP/1.1 101 Switching Protocols", 101, "Switching Protocols"),
            ("HTTP/1.1 400 ", 400, ""),
            ("HTTP/1.0 426", 426, ""),
        })
        {
            var input = Bytes(line + "\r\nUpgrade: websocket\r\n\r\n");
            Assert.True(HttpHeadCodec.TryReadResponse(ref input, out var head));
            Assert.Equal(code, head.StatusCode);
            Assert.Equal(reason, head.ReasonPhrase);
            Assert.Equal(line[..8], head.Version);
            Assert.True(input.IsEmpty);
        }
    }

    [Fact]
    public void An_incomplete_head_waits_and_leaves_the_input_untouched()
    {
        for (var cut = 0; cut < BrowserRequest.Length; cut++)
        {
            var input = Bytes(BrowserRequest[..cut]);
            Assert.False(HttpHeadCodec.TryReadRequest(ref input, out _));
            Assert.Equal(cut, input.Length);
        }
    }

    [Fact]
    public void A_head_split_across_segments_reads_like_a_contiguous_one()
    {
        var bytes = Encoding.Latin1.GetBytes(BrowserRequest);
        var contiguous = new ReadOnlySequence<byte>(bytes);
        Assert.True(HttpHeadCodec.TryReadRequest(ref contiguous, out var expected));
        foreach (var segmentLength in new[] { 1, 2, 7, 100 })
        {
            var split = Segments.Split(bytes, segmentLength);
            Assert.True(HttpHeadCodec.TryReadRequest(ref split, out var head));
            Assert.Equal(expected, head);
            Assert.True(split.IsEmpty);
        }
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\nHost: a\r\n\r\n", "bare LF")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "bare CR in a value")]
    [InlineData("GET / HTTP/1.1\r\nHost : a\r\n\r\n", "space before the colon")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n continued\r\n\r\n", "obs-fold")]
    [InlineData("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", "no colon")]
    [InlineData("GET / HTTP/1.1\r\n: empty name\r\n\r\n", "empty name")]
    [InlineData("GET / HTTP/1.1\r\nNa(me: a\r\n\r\n", "separator in a name")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\u0001b\r\n\r\n", "control character in a value")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\u007fb\r\n\r\n", "DEL in a value")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n", "two spaces")]
    [InlineData("GET /HTTP/1.1\r\n\r\n", "one space")]
    [InlineData("GET / HTTP/11\r\n\r\n", "bad version")]
    [InlineData("GET / http/1.1\r\n\r\n", "lower-case version")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n", "method not a token")]
    [InlineData("GET /\u00e9 HTTP/1.1\r\n\r\n", "non-ASCII target")]
    [InlineData("\r\n\r\n", "empty request line")]
    public void Rejects_malformed_requests_with_the_format_exception(string text, string why)
    {
        var input = Bytes(text);
        var e = Record.Exception(() => HttpHeadCodec.TryReadRequest(ref input, out _));
        Assert.True(e is WireFormatException, $"{why}: {e?.GetType().Name ?? "accepted"}");
    }

    [Theory]
    [InlineData("HTTP/1.1 10 Short\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n")]
    [InlineData("HTTP/1.1 1010 Long\r\n\r\n")]
    [InlineData("HTTP/1.1101 x\r\n\r\n")]
    [InlineData("HTTP/1.1 101 Bad\u0000reason\r\n\r\n")]
    [InlineData("101 Switching Protocols\r\n\r\n")]
    public void Rejects_malformed_status_lines(string text)
    {
        var input = Bytes(text);
        Assert.Throws<WireFormatException>(() => HttpHeadCodec.TryReadResponse(ref input, out _));
    }

    [Fact]
    public void A_head_longer_than_8_KiB_is_rejected_once_8_KiB_have_arrived()
    {
        var filler = "X-Filler: " + new string('a', HttpHeadCodec.MaxHeadLength) + "\r\n";
        var text = "GET / HTTP/1.1\r\n" + filler + "\r\n";
        var waiting = Bytes(text[..(HttpHeadCodec.MaxHeadLength - 1)]);
        Assert.False(HttpHeadCodec.TryReadRequest(ref waiting, out _));
        var full = Bytes(text[..HttpHeadCodec.MaxHeadLength]);
        var e = Assert.Throws<WireFormatException>(() => HttpHeadCodec.TryReadRequest(ref full, out _));
        Assert.Contains("8192", e.Message, StringComparison.Ordinal);

        // Exactly at the limit is fine.
        var exact = "GET / HTTP/1.1\r\nX: ";
        exact += new string('a', HttpHeadCodec.MaxHeadLength - exact.Length - 4) + "\r\n\r\n";
        var input = Bytes(exact);
        Assert.True(HttpHeadCodec.TryReadRequest(ref input, out _));
    }

    [Fact]
    public void More_than_64_header_fields_are_rejected()
    {
        var text = new StringBuilder("GET / HTTP/1.1\r\n");
        for (var i = 0; i <= HttpHeadCodec.MaxHeaderCount; i++)
        {
            text.Append("A: b\r\n");
        }

        var input = Bytes(text + "\r\n");
        Assert.Throws<WireFormatException>(() => HttpHeadCodec.TryReadRequest(ref input, out _));
    }

    [Fact]
    public void Writes_the_canonical_form()
    {
        var writer = new ArrayBufferWriter<byte>();
        HttpHeadCodec.Write(writer, new HttpResponseHead(101, "Switching Protocols", [new("Upgrade", "websocket")]));
        Assert.Equal("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", Encoding.Latin1.GetString(writer.WrittenSpan));
        writer.Clear();
        HttpHeadCodec.Write(writer, new HttpRequestHead("GET", "/", [new("Host", "a:1")]));
        Assert.Equal("GET / HTTP/1.1\r\nHost: a:1\r\n\r\n", Encoding.Latin1.GetString(writer.WrittenSpan));
    }

    [Fact]
    public void Heads_that_could_not_be_written_and_read_back_cannot_be_made()
    {
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("G T", "/", []));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "/ x", []));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "/", [new("Host", "a\r\nInjected: 1")]));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "/", [new("Host", " padded")]));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "/", [new("Bad Name", "x")]));
        Assert.Throws<ArgumentException>(() => new HttpRequestHead("GET", "/", [], "HTTP/1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HttpResponseHead(99, "", []));
        Assert.Throws<ArgumentException>(() => new HttpResponseHead(200, "a\nb", []));
        Assert.Throws<ArgumentException>(() => new HttpResponseHead(200, "OK", [new("X", "\u0100")]));
    }

    [Property]
    public void Every_well_formed_request_round_trips(string? method, string? target, string?[] names, string?[] values)
    {
        var headers = names.Zip(values, (n, v) => new HttpHeaderField(Token(n), Value(v))).Take(HttpHeadCodec.MaxHeaderCount);
        var head = new HttpRequestHead(Token(method), "/" + Visible(target), headers);
        var writer = new ArrayBufferWriter<byte>();
        HttpHeadCodec.Write(writer, head);
        var input = new ReadOnlySequence<byte>(writer.WrittenMemory);
        if (writer.WrittenCount > HttpHeadCodec.MaxHeadLength)
        {
            Assert.Throws<WireFormatException>(() => HttpHeadCodec.TryReadRequest(ref input, out _));
            return;
        }

        Assert.True(HttpHeadCodec.TryReadRequest(ref input, out var read));
        Assert.Equal(head, read);
        Assert.True(input.IsEmpty);
    }

    [Property]
    public void Every_well_formed_response_round_trips(ushort code, string? reason, string?[] names, string?[] values)
    {
        var headers = names.Zip(values, (n, v) => new HttpHeaderField(Token(n), Value(v))).Take(HttpHeadCodec.MaxHeaderCount);
        var head = new HttpResponseHead(100 + (code % 900), Value(reason), headers);
        var writer = new ArrayBufferWriter<byte>();
        HttpHeadCodec.Write(writer, head);
        var input = new ReadOnlySequence<byte>(writer.WrittenMemory);
        if (writer.WrittenCount > HttpHeadCodec.MaxHeadLength)
        {
            return;
        }

        Assert.True(HttpHeadCodec.TryReadResponse(ref input, out var read));
        Assert.Equal(head, read);
    }

    [Property]
    public void Arbitrary_bytes_read_wait_or_throw_the_format_exception(byte[] bytes)
    {
        foreach (var prefix in new[] { "", "GET / HTTP/1.1\r\n", "HTTP/1.1 101 OK\r\n" })
        {
            var data = Encoding.Latin1.GetBytes(prefix).Concat(bytes).Concat("\r\n\r\n"u8.ToArray()).ToArray();
            var request = new ReadOnlySequence<byte>(data);
            var response = request;
            var requestOutcome = Record.Exception(() => HttpHeadCodec.TryReadRequest(ref request, out _));
            var responseOutcome = Record.Exception(() => HttpHeadCodec.TryReadResponse(ref response, out _));
            Assert.True(requestOutcome is null or WireFormatException, requestOutcome?.ToString());
            Assert.True(responseOutcome is null or WireFormatException, responseOutcome?.ToString());
        }
    }

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    private static string Token(string? raw) => Map(raw, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", minimumLength: 1);

    private static string Visible(string? raw) => Map(raw, string.Concat(Enumerable.Range(0x21, 0x5E).Select(c => (char)c)), minimumLength: 0);

    private static string Value(string? raw) =>
        Map(raw, " \tab\u00e9\u00ff~\"" + string.Concat(Enumerable.Range(0x21, 0x5E).Select(c => (char)c)), minimumLength: 0).Trim(' ', '\t');

    private static string Map(string? raw, string alphabet, int minimumLength)
    {
        var text = new string((raw ?? "").Select(c => alphabet[c % alphabet.Length]).ToArray());
        return text.Length >= minimumLength ? text : text + alphabet[0];
    }
}
