using Frugal.Models.Residency;
using Frugal.Numerics.Attention;

namespace Frugal.Planning;

/// <summary>The resource that bounds a phase's speed in a plan.</summary>
public enum LimitingResource
{
    /// <summary>Reading the weights (and KV) from RAM: decode's usual bound.</summary>
    MemoryBandwidth,

    /// <summary>The multiplies: prefill's usual bound.</summary>
    Compute,

    /// <summary>Streaming the weights beyond the budget from the device.</summary>
    Disk,

    /// <summary>Streaming the weights beyond the budget from the page cache (the file stays cached: RAM beyond the budget).</summary>
    PageCache,
}

/// <summary>
/// Predicted prefill and decode tokens/s (DESIGN.md, performance model). Decode reads every weight once per token:
/// its time is the weight bytes of each type over that type's calibrated share of the memory read bandwidth, plus the
/// KV it attends over. Prefill is the multiplies' FLOPs over the measured rate of each weight type (times a calibrated
/// efficiency), and never less than one pass over the weights. When weights stream, the read-ahead overlaps the
/// forward (the streaming loader reads the next layer while this one computes): a step takes the longer of the two
/// (the forward, or the streamed bytes over the rate they are read at plus their repack into the kernel layout), plus
/// what the overlap costs where the reader shares the compute threads' cores.
/// </summary>
public sealed record SpeedPlan
{
    public required double DecodeSeconds { get; init; }

    public required double PrefillSeconds { get; init; }

    public required int PromptTokens { get; init; }

    public required LimitingResource DecodeLimitedBy { get; init; }

    public required LimitingResource PrefillLimitedBy { get; init; }

    /// <summary>Bytes/s the streamed weights are read at (disk or page cache); null when nothing streams.</summary>
    public double? StreamBytesPerSecond { get; init; }

    public double DecodeTokensPerSecond => 1 / DecodeSeconds;

    public double PrefillTokensPerSecond => PromptTokens / PrefillSeconds;

    /// <param name="streamFromPageCache">whether the streamed bytes will be served by the page cache rather than the device.</param>
    public static SpeedPlan Make(ModelShape shape, WeightResidency residency, PlanSettings settings, MachineProfile machine,
        PlanCalibration calibration, bool streamFromPageCache)
    {
        var c = shape.Config;
        int p = settings.PromptTokens;
        double bw = machine.MemoryReadBytesPerSecond;
        var matrices = shape.MultipliedMatrices().ToList();

        // Decode: each multiplied matrix once, at its type's share of the bandwidth; then the KV of the prompt.
        double decodeMemory = matrices.Sum(t => t.Bytes / (calibration.DecodeFraction(t.Type) * bw));
        long kvPerToken = (long)c.BlockCount * settings.CacheTypes.BytesPerLayerPosition(c.HeadCountKv, c.HeadDim);
        decodeMemory += (double)kvPerToken * p / (calibration.DecodeBandwidthFraction * bw);

        // Prefill: every layer matrix for p rows; the output matrix for the last row only (only it needs logits).
        double flopSeconds = matrices.Sum(t =>
            2.0 * t.Rows * t.Cols * (t.Layer >= 0 ? p : 1) / machine.FlopsPerSecond(t.Type));
        double prefillCompute = Math.Max(flopSeconds / calibration.PrefillEfficiency, decodeMemory);

        double? rate = null;
        double stream = 0;
        if (residency.IsStreaming)
        {
            rate = streamFromPageCache ? machine.PageCacheReadBytesPerSecond : machine.DiskReadBytesPerSecond;
            rate ??= machine.DiskReadBytesPerSecond ?? machine.PageCacheReadBytesPerSecond ?? bw / 10;
            // The read-ahead thread reads each streamed unit (pread), then repacks it into the kernel layout.
            double repack = matrices
                .Where(t => residency.Streams(t.Layer, t.Name))
                .Sum(t => machine.RepackBytesPerSecond.TryGetValue(t.Type, out double r) ? t.Bytes / r : 0);
            stream = residency.StreamedBytes / rate.Value + repack;
        }
        var streamResource = streamFromPageCache ? LimitingResource.PageCache : LimitingResource.Disk;
        return new SpeedPlan
        {
            PromptTokens = p,
            DecodeSeconds = Overlapped(decodeMemory, stream, calibration),
            DecodeLimitedBy = stream > decodeMemory ? streamResource : LimitingResource.MemoryBandwidth,
            PrefillSeconds = Overlapped(prefillCompute, stream, calibration),
            PrefillLimitedBy = stream > prefillCompute ? streamResource
                : flopSeconds / calibration.PrefillEfficiency >= decodeMemory ? LimitingResource.Compute : LimitingResource.MemoryBandwidth,
            StreamBytesPerSecond = rate,
        };
    }

    /// <summary>
    /// A step whose forward takes <paramref name="compute"/> while the read-ahead thread spends <paramref name="stream"/>
    /// on the next units: the longer of the two, plus the share of the shorter that the two lose to each other where
    /// the reader has no core of its own (<see cref="PlanCalibration.StreamOverlapCost"/>).
    /// </summary>
    private static double Overlapped(double compute, double stream, PlanCalibration calibration) =>
        stream <= 0 ? compute : Math.Max(compute, stream) + calibration.StreamOverlapCost * Math.Min(compute, stream);

    public static string Name(LimitingResource r) => r switch
    {
        LimitingResource.MemoryBandwidth => "memory bandwidth",
        LimitingResource.Compute => "compute",
        LimitingResource.Disk => "disk",
        LimitingResource.PageCache => "page cache",
        _ => r.ToString(),
    };
}
