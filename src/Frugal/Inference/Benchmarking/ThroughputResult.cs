using Frugal.Numerics.Attention;

namespace Frugal.Inference.Benchmarking;

/// <summary>
/// The rounds of a prefill/decode benchmark and their medians (the figure that resists a noisy machine), with the
/// memory read bandwidth measured around them (<see cref="ReadBytesPerSecondSamples"/>; empty when not measured).
/// </summary>
public sealed record ThroughputResult(int PromptTokens, int DecodeTokens, IReadOnlyList<RoundTiming> Rounds,
    IReadOnlyList<double>? ReadBytesPerSecondSamples = null)
{
    /// <summary>Tokens already in the cache when each timed prefill started (llama-bench's <c>-d</c>; 0 = empty).</summary>
    public int DepthTokens { get; init; }

    /// <summary>Element types of the K and V cache the rounds ran with (llama-bench's <c>type_k</c> / <c>type_v</c>).</summary>
    public KvCacheTypes CacheTypes { get; init; }

    /// <summary>Bytes of K and V one token takes over all layers in <see cref="CacheTypes"/>; 0 when not recorded.</summary>
    public long KvBytesPerToken { get; init; }

    /// <summary>llama-bench's test names: <c>pp512</c> and <c>tg128</c>, with <c> @ d4096</c> at a depth.</summary>
    public string PrefillTestName => $"pp{PromptTokens}{DepthSuffix}";

    /// <inheritdoc cref="PrefillTestName"/>
    public string DecodeTestName => $"tg{DecodeTokens}{DepthSuffix}";

    private string DepthSuffix => DepthTokens > 0 ? $" @ d{DepthTokens}" : "";

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

    /// <summary>Median of the read-bandwidth measurements in bytes per second; null when none was taken.</summary>
    public double? ReadBytesPerSecond => ReadBytesPerSecondSamples is { Count: > 0 } s ? SampleStatistics.Median(s) : null;

    /// <summary>
    /// Decode's weight bandwidth as a fraction of the measured read bandwidth (1 = decode reads weights as fast as a
    /// plain streaming read); null when the read bandwidth was not measured.
    /// </summary>
    public double? DecodeBandwidthFraction(long weightBytesPerToken) =>
        ReadBytesPerSecond is { } read ? DecodeBytesPerSecond(weightBytesPerToken) / read : null;
}
