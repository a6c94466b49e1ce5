using Frugal.Numerics;

namespace Frugal.Planning;

/// <summary>
/// What this machine offers a model, measured or read by <see cref="MachineProbe"/> (tests give fixed figures): memory
/// read bandwidth on the compute threads, the multiply rate per weight type, the disk's and the page cache's sequential
/// read rates, free memory and the process's cgroup limit, and the runtime's own resident memory.
/// </summary>
public sealed record MachineProfile
{
    public required int Threads { get; init; }

    /// <summary>Memory read bytes/s as <c>frugal bench</c>/<c>membw</c> measure it (<c>ReadBandwidthProbe</c>).</summary>
    public required double MemoryReadBytesPerSecond { get; init; }

    /// <summary>Multiply-add FLOP/s per weight type at the prefill batch size (<c>MatMulRateProbe</c>).</summary>
    public required IReadOnlyDictionary<GgmlType, double> MatMulFlopsPerSecond { get; init; }

    /// <summary>
    /// File bytes/s the streaming reader repacks per weight type into this CPU's kernel layout, on its one thread, from
    /// the staging slice into cold memory (<c>StreamFillProbe</c>); a type absent here is read straight into place (no
    /// repack cost).
    /// </summary>
    public IReadOnlyDictionary<GgmlType, double> RepackBytesPerSecond { get; init; } = new Dictionary<GgmlType, double>();

    /// <summary>Sequential read bytes/s of the model file from the device (O_DIRECT); null when it could not be measured.</summary>
    public double? DiskReadBytesPerSecond { get; init; }

    /// <summary>Bytes/s the streaming reader's positioned reads of the model file get when the page cache holds it (<c>StreamFillProbe</c>).</summary>
    public double? PageCacheReadBytesPerSecond { get; init; }

    /// <summary>MemAvailable of /proc/meminfo: what can be allocated without swapping or evicting much.</summary>
    public required long AvailableMemoryBytes { get; init; }

    /// <summary>The memory cgroup's limit (v1 memory.limit_in_bytes or v2 memory.max); null: no limit applies.</summary>
    public long? CgroupLimitBytes { get; init; }

    /// <summary>What the cgroup has charged already (page cache included); null without a limit.</summary>
    public long? CgroupUsageBytes { get; init; }

    /// <summary>Resident bytes of this process after the runtime started and the GGUF header was parsed, before any probe.</summary>
    public required long RuntimeBytes { get; init; }

    /// <summary>Memory a new allocation can count on: MemAvailable, or less when a cgroup limit leaves less.</summary>
    public long UsableMemoryBytes => CgroupLimitBytes is { } limit
        ? Math.Min(AvailableMemoryBytes, Math.Max(0, limit - (CgroupUsageBytes ?? 0)))
        : AvailableMemoryBytes;

    /// <summary>The multiply rate of <paramref name="type"/>; a type not probed takes the slowest probed rate.</summary>
    public double FlopsPerSecond(GgmlType type) =>
        MatMulFlopsPerSecond.TryGetValue(type, out double r) ? r : MatMulFlopsPerSecond.Count > 0 ? MatMulFlopsPerSecond.Values.Min() : 1e9;
}
