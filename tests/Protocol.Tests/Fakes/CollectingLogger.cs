using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>A logger that keeps every entry, for asserting that a rejection was reported.</summary>
public sealed class CollectingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));

    public bool Contains(LogLevel level, string fragment) =>
        Entries.Any(entry => entry.Level == level && entry.Message.Contains(fragment, StringComparison.Ordinal));
}
