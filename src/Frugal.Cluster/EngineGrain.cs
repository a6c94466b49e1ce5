using Frugal.Cluster.Wire;
using Orleans.Concurrency;

namespace Frugal.Cluster;

/// <summary>
/// A thin face of the silo's <see cref="SiloEngine"/> (which owns the model, its KV pool and scheduler): reentrant, so
/// every request's stream runs at once and the engine batches them.
/// </summary>
[Reentrant, SiloPinnedPlacement]
internal sealed class EngineGrain(SiloEngine engine) : Grain, IEngineGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        if (key != engine.SiloKey)
            throw new InvalidOperationException($"the engine of silo {key} cannot run on silo {engine.SiloKey}");
        return Task.CompletedTask;
    }

    public Task<SiloReport> ReportAsync(long sinceVersion) => Task.FromResult(engine.Report(sinceVersion));

    public IAsyncEnumerable<WireEvent> GenerateAsync(WireJob job) => engine.GenerateAsync(job, CancellationToken.None);
}
