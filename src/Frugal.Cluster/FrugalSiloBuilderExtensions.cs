using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Frugal.Cluster;

public static class FrugalSiloBuilderExtensions
{
    /// <summary>
    /// Makes this silo a Frugal node: it hosts one engine (loaded as the silo starts, released as it stops) behind its
    /// <see cref="IEngineGrain"/>, and its <see cref="SiloEngine.State"/> routes generations across the cluster.
    /// Clustering (membership) is the caller's: <see cref="ClusterNode"/> sets localhost or Redis; tests use their own.
    /// </summary>
    public static ISiloBuilder AddFrugalEngine(this ISiloBuilder silo, ClusterNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        silo.Services.AddSingleton(options);
        silo.Services.AddSingleton<SiloEngine>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<SiloEngine>());
        silo.AddPlacementDirector<SiloPinnedPlacement, SiloPinnedPlacementDirector>();
        return silo;
    }
}
