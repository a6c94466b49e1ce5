using Frugal.Models;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// <c>frugal bench</c>'s measurement: one untimed warm-up round (JIT tiering, page faults of the mapped weights),
/// then <c>repetitions</c> timed rounds of <see cref="PrefillDecodeRound"/>.
/// </summary>
public static class ThroughputBenchmark
{
    /// <exception cref="ArgumentOutOfRangeException">a count below 1, or prompt + decode beyond the model's context.</exception>
    public static ThroughputResult Run(ILanguageModel model, int promptTokens, int decodeTokens, int repetitions,
        int seed = 42, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        var round = new PrefillDecodeRound(model, promptTokens, decodeTokens, seed);
        round.Measure(cancellation);
        var rounds = new RoundTiming[repetitions];
        for (int i = 0; i < repetitions; i++)
            rounds[i] = round.Measure(cancellation);
        return new ThroughputResult(promptTokens, decodeTokens, rounds);
    }
}
