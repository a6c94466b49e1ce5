using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Frugal.Cluster;

/// <summary>Places a grain on the silo its string key names (<c>SiloAddress.ToParsableString()</c>), and nowhere else.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    internal static readonly SiloPinnedPlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Instance);

/// <summary>
/// Activates a silo-pinned grain on its own silo; when that silo has left the cluster the activation (and so the call)
/// fails, so a gateway tries another silo rather than a second engine starting on a silo that has one.
/// </summary>
internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string key = target.GrainIdentity.Key.ToString()!;
        var silo = SiloAddress.FromParsableString(key);
        if (!context.GetCompatibleSilos(target).Contains(silo))
            throw new SiloUnavailableException($"silo {key} is not in the cluster (it stopped or died)");
        return Task.FromResult(silo);
    }
}
