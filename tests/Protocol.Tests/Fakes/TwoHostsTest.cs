using System.Diagnostics.CodeAnalysis;

namespace ToolNet.Protocol.Tests.Fakes;

/// <summary>
/// Base of service tests: two fake hosts A (one listen address) and B (two), connected A→B, and the services a test
/// registers with <see cref="Own{T}"/>. Afterwards the services and hosts are disposed and no inbound handler may
/// have failed.
/// </summary>
[SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes through IAsyncLifetime")]
public abstract class TwoHostsTest : IAsyncLifetime
{
    private readonly List<object> _owned = [];

    protected TwoHostsTest()
    {
        A = new FakeHost(null, "/ip4/127.0.0.1/tcp/50001");
        B = new FakeHost(null, "/ip4/127.0.0.1/tcp/4001", "/ip6/::1/tcp/4001");
        (AToB, BToA) = FakeHost.Connect(A, B);
    }

    public FakeHost A { get; }

    public FakeHost B { get; }

    /// <summary>A's side of the connection.</summary>
    public FakeConnection AToB { get; }

    /// <summary>B's side of the connection.</summary>
    public FakeConnection BToA { get; }

    public CollectingLogger Log { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            switch (_owned[i])
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }

        await A.DisposeAsync();
        await B.DisposeAsync();
        Assert.Empty(A.HandlerFailures);
        Assert.Empty(B.HandlerFailures);
    }

    /// <summary>Disposes <paramref name="service"/> when the test ends.</summary>
    protected T Own<T>(T service)
        where T : class
    {
        _owned.Add(service);
        return service;
    }
}
