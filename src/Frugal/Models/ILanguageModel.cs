using Frugal.Models.Residency;
using Frugal.Numerics.Attention;

namespace Frugal.Models;

/// <summary>A loaded decoder-only transformer: evaluates tokens against a KV cache and produces logits.</summary>
public interface ILanguageModel : IDisposable
{
    ModelConfig Config { get; }

    /// <summary>
    /// Bytes of weights copied at load into a faster kernel layout (native memory on top of the mapped file; 0 when
    /// every kernel reads the file's blocks directly). See <see cref="Numerics.WeightMatrix.PrepareKernelLayout"/>.
    /// </summary>
    long KernelLayoutBytes => 0;

    /// <summary>Which weights are resident and which are streamed from the file (<see cref="ModelLoadOptions.MemoryBudget"/>); null when unknown.</summary>
    WeightResidency? Residency => null;

    /// <summary>What the weight stream has read and handed out; null when nothing is streamed.</summary>
    WeightStreamCounters? StreamCounters => null;

    /// <summary>A KV cache for one sequence of up to <paramref name="maxTokens"/> positions, K and V stored as <paramref name="types"/> (f16 by default).</summary>
    KvCache CreateCache(int maxTokens, KvCacheTypes types = default);

    /// <summary>
    /// Evaluates <paramref name="tokens"/> at positions cache.Count .. cache.Count + tokens.Length - 1 and appends
    /// their keys and values to <paramref name="cache"/>. <paramref name="logits"/> receives [tokens.Length, vocab]
    /// floats when <paramref name="allLogits"/> is set, otherwise the [vocab] logits of the last token.
    /// </summary>
    void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false);
}
