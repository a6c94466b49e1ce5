using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Frugal.Server;

/// <summary>What the endpoints share: the options, the model once loaded, HTTP-level counters and the logger.</summary>
public sealed class ServerState(ServerOptions options, ILogger? logger = null) : IDisposable
{
    private volatile ServedModel? _model;

    public ServerOptions Options { get; } = options;

    /// <summary>The served model; null while it loads (or when loading failed).</summary>
    public ServedModel? Model => _model;

    /// <summary>Why loading failed, when it did.</summary>
    public Exception? LoadError { get; internal set; }

    /// <summary>Completes when the model is loaded (faults when loading failed); null until <see cref="StartLoading"/>.</summary>
    public Task? Loaded { get; private set; }

    /// <summary>Where generations run: this server's engine unless a host (Frugal.Cluster) sets another before serving.</summary>
    public IGenerationBackend Backend
    {
        get => field ??= new LocalEngineBackend(this);
        set => field = value ?? throw new ArgumentNullException(nameof(Backend));
    }

    /// <summary>HTTP responses by status code.</summary>
    public ConcurrentDictionary<int, long> Responses { get; } = new();

    internal ILogger Logger { get; } = logger ?? NullLogger.Instance;

    /// <summary>Loads <see cref="ServerOptions.ModelPath"/> on a pool thread; the endpoints answer 503 until it is done.</summary>
    public Task StartLoading(ILoggerFactory? loggers = null)
    {
        if (Loaded is not null) throw new InvalidOperationException("the model is already loading");
        return Loaded = Task.Run(() =>
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                var model = ServedModel.Load(Options, loggers);
                _model = model;
                Logger.LogInformation("loaded {Model} from {Path} in {ElapsedMs} ms: context {Context}, {Parallel} parallel, KV {KvMiB} MiB ({KvTypes})",
                    model.Id, Options.ModelPath, Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds), model.Engine.ContextLength,
                    Options.Parallel, model.Engine.KvBytes >> 20, model.Engine.KvCacheTypes.ToString());
            }
            catch (Exception e)
            {
                LoadError = e;
                Logger.LogError("loading {Path} failed: {Error}", Options.ModelPath, e.Message);
                throw;
            }
        }, CancellationToken.None);
    }

    internal ServedModel RequireModel() => _model
        ?? throw new ApiError(503, LoadError is null ? "the model is still loading" : $"the model failed to load: {LoadError.Message}", "server_error", code: "model_not_ready") { RetryAfterSeconds = 1 };

    /// <summary>Waits for a load in progress to end (it cannot be interrupted), then releases the model.</summary>
    public void Dispose()
    {
        try { Loaded?.GetAwaiter().GetResult(); } catch { /* reported through Loaded, /health and the log */ }
        _model?.Dispose();
        _model = null;
    }
}
