using Frugal.Numerics;

namespace Frugal.Planning;

/// <summary>
/// The factors that turn measured machine figures into predictions, each measured with <c>frugal bench</c> on the
/// 2-core Zen 5 VM this repository is developed on (bench/plan.md has the runs and the validation table); another
/// machine may pass its own (<c>Frugal.Bench plan-check</c> prints what to change).
/// </summary>
public sealed record PlanCalibration
{
    /// <summary>
    /// Decode's weight bytes/s as a share of the memory read bandwidth (<c>bench</c>'s <c>decode_bw_fraction</c>),
    /// by the type of the weights read; a type absent here takes <see cref="DecodeBandwidthFraction"/>.
    /// </summary>
    public IReadOnlyDictionary<GgmlType, double> DecodeBandwidthFractionByType { get; init; } = new Dictionary<GgmlType, double>
    {
        // Medians of 9 quiet 2-thread `Frugal.Bench plan-calibrate -r 9` runs on the Llama-3.2-1B-shaped files
        // (bench/plan.md): the Q8_0 file 0.80 of the 41-54 GB/s read probe; the Q4_0 file (Q4_0 layers, Q6_K output)
        // 0.65 (its smaller blocks cost more unpacking per byte).
        [GgmlType.Q8_0] = 0.80,
        [GgmlType.Q4_0] = 0.65,
        [GgmlType.Q6_K] = 0.65,
    };

    /// <summary>The share for types not in <see cref="DecodeBandwidthFractionByType"/>.</summary>
    public double DecodeBandwidthFraction { get; init; } = 0.75;

    /// <summary>
    /// A model's prefill FLOP/s over the multiply probe's (attention, norms, RoPE, activation quantization and the
    /// matrices' own cache behaviour are in it). Medians of 9 quiet runs: 0.86 on the Q8_0 file, 0.73 on the Q4_0 file.
    /// </summary>
    public double PrefillEfficiency { get; init; } = 0.8;

    /// <summary>
    /// Resident bytes a process that ran the forward holds beyond the plan's own (the runtime, the parsed header) and
    /// the parts the plan counts (weights, KV, activation scratch): compiled kernels, the compute team's stacks, the GC
    /// heap's slack.
    /// </summary>
    public long ComputeOverheadBytes { get; init; } = 105L << 20;

    /// <summary>Bytes the kernel maps in per page fault of a file mapping (fault-around: 16 pages), for gathered embedding rows.</summary>
    public long FaultAroundBytes { get; init; } = 64 << 10;

    /// <summary>
    /// The share of the shorter of a streamed step's compute and read-ahead that is added to the longer: 0 where the
    /// read-ahead thread had a core of its own, 1 where the two ran one after the other.
    /// </summary>
    public double StreamOverlapCost { get; init; } = 0.5;

    public static PlanCalibration Default { get; } = new();

    public double DecodeFraction(GgmlType type) =>
        DecodeBandwidthFractionByType.TryGetValue(type, out double f) ? f : DecodeBandwidthFraction;
}
