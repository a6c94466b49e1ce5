namespace Frugal.Inference.Benchmarking;

/// <summary>The rounds of a prefill/decode benchmark and their medians (the figure that resists a noisy machine).</summary>
public sealed record ThroughputResult(int PromptTokens, int DecodeTokens, IReadOnlyList<RoundTiming> Rounds)
{
    /// <summary>Prompt tokens over the median prefill time.</summary>
    public double PrefillTokensPerSecond => PromptTokens / SampleStatistics.Median(Rounds.Select(r => r.Prefill.TotalSeconds));

    /// <summary>Decoded tokens over the median decode time.</summary>
    public double DecodeTokensPerSecond => DecodeTokens / SampleStatistics.Median(Rounds.Select(r => r.Decode.TotalSeconds));

    /// <summary>Standard deviation of the per-round prefill tokens/s (llama-bench's ±).</summary>
    public double PrefillTokensPerSecondStdDev => SampleStatistics.StdDev(Rounds.Select(r => PromptTokens / r.Prefill.TotalSeconds));

    /// <summary>Standard deviation of the per-round decode tokens/s.</summary>
    public double DecodeTokensPerSecondStdDev => SampleStatistics.StdDev(Rounds.Select(r => DecodeTokens / r.Decode.TotalSeconds));

    /// <summary>Bytes of weights read per second of decode, given the bytes one decode step reads.</summary>
    public double DecodeBytesPerSecond(long weightBytesPerToken) => DecodeTokensPerSecond * weightBytesPerToken;
}
