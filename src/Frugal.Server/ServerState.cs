using System.Collections.Concurrent;

namespace Frugal.Server;

/// <summary>What the endpoints share: the options, the model once loaded, and HTTP-level counters.</summary>
public sealed class ServerState(ServerOptions options)
{
    private volatile ServedModel? _model;

    public ServerOptions Options { get; } = options;

    /// <summary>The served model; null while it loads (or when loading failed).</summary>
    public ServedModel? Model => _model;

    /// <summary>Why loading failed, when it did.</summary>
    public Exception? LoadError { get; internal set; }

    /// <summary>HTTP responses by status code.</summary>
    public ConcurrentDictionary<int, long> Responses { get; } = new();

    internal void SetModel(ServedModel model) => _model = model;

    internal ServedModel RequireModel() => _model
        ?? throw new ApiError(503, LoadError is null ? "the model is still loading" : $"the model failed to load: {LoadError.Message}", "server_error", code: "model_not_ready") { RetryAfterSeconds = 1 };
}
