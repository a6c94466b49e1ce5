using Frugal.Cluster.Wire;

namespace Frugal.Cluster;

/// <summary>
/// The engine of one silo, reached from any silo's gateway. Keyed by the silo's address and placed on that silo only
/// (<see cref="SiloPinnedPlacement"/>): a call for a silo that is gone fails instead of starting a second engine elsewhere.
/// </summary>
public interface IEngineGrain : IGrainWithStringKey
{
    /// <summary>The silo's load and its prefix-cache changes since <paramref name="sinceVersion"/> (0: the whole summary).</summary>
    Task<SiloReport> ReportAsync(long sinceVersion);

    /// <summary>
    /// Runs the job's choices on this silo's engine and streams their events; the first event comes with the first
    /// token (or is an <see cref="WireEventKind.Error"/> refusal). Disposing the stream early cancels the generations.
    /// </summary>
    IAsyncEnumerable<WireEvent> GenerateAsync(WireJob job);
}
