using System.Runtime.CompilerServices;
using Frugal.Cluster.Wire;
using Frugal.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Frugal.Cluster;

/// <summary>
/// What one silo hosts: the engine (model, KV pool, scheduler) in a <see cref="ServerState"/> whose generations the
/// <see cref="ClusterBackend"/> routes, loaded when the silo starts and released when it stops. Its gateway serves
/// that same state over HTTP (<see cref="ClusterNode"/>).
/// </summary>
public sealed class SiloEngine : IHostedService, IDisposable
{
    private readonly ILoggerFactory _loggers;
    private long _pendingPrefill;

    public SiloEngine(ClusterNodeOptions options, ILocalSiloDetails silo, IGrainFactory grains, IClusterMembershipService membership, ILoggerFactory loggers)
    {
        _loggers = loggers;
        SiloKey = silo.SiloAddress.ToParsableString();
        State = new ServerState(options.Server, loggers.CreateLogger(FrugalEndpoints.LogCategory));
        Router = new ClusterRouter(options.Routing, grains, membership, loggers.CreateLogger<ClusterRouter>());
        State.Backend = new ClusterBackend(Router, grains, loggers.CreateLogger<ClusterBackend>());
    }

    /// <summary>This silo's address, the key of its <see cref="IEngineGrain"/>.</summary>
    public string SiloKey { get; }

    /// <summary>The model and the HTTP-level state this silo's gateway serves.</summary>
    public ServerState State { get; }

    /// <summary>Where this silo's gateway sends requests.</summary>
    public ClusterRouter Router { get; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        State.StartLoading(_loggers);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => State.Dispose();

    public SiloReport Report(long sinceVersion)
    {
        if (State.Model is not { } served) return new SiloReport { Ready = false };
        var engine = served.Engine;
        var m = engine.Metrics;
        var changes = engine.PrefixCache.Since(sinceVersion);
        return new SiloReport
        {
            Ready = true,
            BlockSize = engine.KvBlockSize,
            RunningSequences = m.RunningSequences,
            QueuedRequests = m.QueueDepth,
            MaxQueuedRequests = engine.Options.MaxQueuedRequests,
            PendingPrefillTokens = Interlocked.Read(ref _pendingPrefill),
            KvBlocksFree = m.KvBlocksFree,
            KvBlocksTotal = engine.KvBlocksTotal,
            PrefixCacheHits = m.PrefixCacheHits,
            PrefixCacheHitTokens = m.PrefixCacheHitTokens,
            PromptTokens = m.PromptTokens,
            Requests = m.Requests,
            Version = changes.Version,
            IsSnapshot = changes.IsSnapshot,
            Added = [.. changes.Added],
            Removed = [.. changes.Removed],
        };
    }

    /// <summary>Runs a job on this silo's engine: its events, or one error event when the engine refuses it.</summary>
    public async IAsyncEnumerable<WireEvent> GenerateAsync(WireJob job, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<ChoiceEvent>? events = null;
        WireEvent? refused = null;
        // Cancelled when the gateway disposes the stream (its client left, or it gave up on this silo): the engine
        // then ends the sequences at its next step and frees their blocks.
        using var abandoned = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long pending = job.UncachedTokens;
        Interlocked.Add(ref _pendingPrefill, pending);
        try
        {
            try
            {
                var requests = job.Requests.Select(r => r.ToEngineRequest()).ToArray();
                var stream = await new LocalEngineBackend(State).StartAsync(requests, job.PromptParam, abandoned.Token);
                events = stream.GetAsyncEnumerator(abandoned.Token);
            }
            catch (ApiError e)
            {
                refused = WireEvent.Failed(e);
            }
            if (refused is not null)
            {
                yield return refused;
                yield break;
            }
            while (true)
            {
                WireEvent next;
                try
                {
                    if (!await events!.MoveNextAsync()) yield break;
                    next = WireEvent.From(events.Current);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // An engine step failed or the engine shut down: the gateway turns this into the client's error.
                    next = WireEvent.Failed(e as ApiError ?? new ApiError(500, $"the generation failed on silo {SiloKey}: {e.Message}", "server_error", code: "generation_failed"));
                }
                if (pending > 0)
                {
                    Interlocked.Add(ref _pendingPrefill, -pending);
                    pending = 0;
                }
                yield return next;
                if (next.Kind == WireEventKind.Error) yield break;
            }
        }
        finally
        {
            if (pending > 0) Interlocked.Add(ref _pendingPrefill, -pending);
            await abandoned.CancelAsync();
            if (events is not null) await events.DisposeAsync();
        }
    }
}
