using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ToolNet.Node.Cli;

/// <summary>Writes a command's result as JSON (with <c>--json</c>) or as human text, and failures to stderr.</summary>
internal sealed class CommandOutput
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private readonly bool _json;
    private readonly TextWriter _out;
    private readonly TextWriter _error;

    public CommandOutput(ParseResult parse)
    {
        _json = parse.GetValue(ToolNetCommand.Json);
        _out = parse.InvocationConfiguration.Output;
        _error = parse.InvocationConfiguration.Error;
    }

    /// <summary>Writes one result: <paramref name="value"/> as one JSON line, or <paramref name="text"/>.</summary>
    public void Write(object value, string text) =>
        _out.WriteLine(_json ? JsonSerializer.Serialize(value, JsonOptions) : text);

    /// <summary>Reports a failure and returns the exit code to use.</summary>
    public int Fail(string reason, int exitCode = 1)
    {
        _error.WriteLine(_json ? JsonSerializer.Serialize(new { error = reason }, JsonOptions) : $"toolnet: {reason}");
        return exitCode;
    }
}
