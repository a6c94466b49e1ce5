using Frugal.Inference.Retention;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// <c>frugal bench</c>'s measurement: one untimed warm-up round (JIT tiering, page faults of the mapped weights),
/// then <c>repetitions</c> timed rounds of <see cref="PrefillDecodeRound"/> (each refilling <c>depthTokens</c> of
/// context first, untimed). With a <see cref="ReadBandwidthProbe"/>,
/// the memory read bandwidth is measured before every timed round and after the last (repetitions + 1 measurements
/// bracketing the rounds), so the bandwidth decode is compared with is the one the machine gave during the rounds:
/// on a shared machine it switches between levels from one second to the next.
/// </summary>
public static class ThroughputBenchmark
{
    /// <exception cref="ArgumentOutOfRangeException">
    /// a count below 1, a negative depth, or depth + prompt + decode beyond the model's context.
    /// </exception>
    public static ThroughputResult Run(ILanguageModel model, int promptTokens, int decodeTokens, int repetitions,
        int seed = 42, ReadBandwidthProbe? readProbe = null, CancellationToken cancellation = default, int depthTokens = 0,
        KvCacheTypes cacheTypes = default, KvRetentionOptions? retention = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var round = new PrefillDecodeRound(model, promptTokens, decodeTokens, seed, depthTokens, cacheTypes, retention);
        round.Measure(cancellation);
        var rounds = new RoundTiming[repetitions];
        var reads = new List<double>(repetitions + 1);
        for (int i = 0; i < repetitions; i++)
        {
            if (readProbe is not null)
                reads.Add(readProbe.MeasureBytesPerSecond());
            rounds[i] = round.Measure(cancellation);
        }
        if (readProbe is not null)
            reads.Add(readProbe.MeasureBytesPerSecond());
        return new ThroughputResult(promptTokens, decodeTokens, rounds, reads)
        {
            DepthTokens = depthTokens,
            CacheTypes = cacheTypes,
            KvBytesPerToken = round.KvBytesPerToken,
        };
    }
}
