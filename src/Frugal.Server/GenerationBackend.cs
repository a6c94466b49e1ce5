using Frugal.Inference.Engine;

namespace Frugal.Server;

/// <summary>One event of one choice of a request: the choice's index and what its engine produced.</summary>
public readonly record struct ChoiceEvent(int Index, EngineEvent Event);

/// <summary>
/// Where the endpoints' generations run once a request is parsed, validated and tokenized: this server's own engine
/// (<see cref="LocalEngineBackend"/>), or another machine's (Frugal.Cluster routes each request to a silo). The
/// endpoints are one path whichever runs it.
/// </summary>
public interface IGenerationBackend
{
    /// <summary>
    /// Starts the choices of one request (all or none). A refusal the client can act on (queue full, prompt too long)
    /// is an <see cref="ApiError"/>. The returned events end with one <see cref="EngineFinished"/> per choice; a
    /// generation cut off on the way throws instead of ending early.
    /// </summary>
    /// <param name="promptParam">the request field that holds the prompt ("messages" or "prompt"), named when it is too long.</param>
    Task<IAsyncEnumerable<ChoiceEvent>> StartAsync(IReadOnlyList<EngineRequest> requests, string promptParam, CancellationToken aborted);

    /// <summary>Adds the backend's own samples (Prometheus text format) to /metrics.</summary>
    Task AppendMetricsAsync(System.Text.StringBuilder text, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The generations run on this server's own engine.</summary>
public sealed class LocalEngineBackend(ServerState state) : IGenerationBackend
{
    public Task<IAsyncEnumerable<ChoiceEvent>> StartAsync(IReadOnlyList<EngineRequest> requests, string promptParam, CancellationToken aborted)
    {
        var streams = CompletionRunner.Submit(state.RequireModel().Engine, requests, promptParam, aborted);
        return Task.FromResult(CompletionRunner.MergeAsync(streams, aborted));
    }
}
