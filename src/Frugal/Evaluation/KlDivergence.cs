using System.Numerics.Tensors;
using Frugal.Models;

namespace Frugal.Evaluation;

/// <summary>What <see cref="KlDivergence.Measure"/> found: llama.cpp's "Perplexity statistics", "KL divergence statistics"
/// and same-top figures (Q is the model measured, base the run that wrote the base file).</summary>
/// <param name="Perplexity">PPL(Q).</param>
/// <param name="BasePerplexity">PPL(base), from the stored log-probabilities.</param>
/// <param name="LogPerplexityCorrelation">Cor(ln PPL(Q), ln PPL(base)).</param>
/// <param name="LogPerplexityRatio">ln(PPL(Q) / PPL(base)).</param>
/// <param name="PerplexityRatio">PPL(Q) / PPL(base).</param>
/// <param name="PerplexityDifference">PPL(Q) - PPL(base).</param>
/// <param name="Kld">mean KL(base || Q) per scored token, in nats.</param>
/// <param name="SortedKld">[scored tokens] the KL divergence of each scored token, ascending.</param>
/// <param name="SameTop">share (0..1) of scored tokens where Q's most likely token is the base's.</param>
/// <param name="DeltaPRms">RMS of p_Q(target) - p_base(target), 0..1.</param>
public sealed record KlDivergenceResult(Estimate Perplexity, Estimate BasePerplexity, double LogPerplexityCorrelation,
    Estimate LogPerplexityRatio, Estimate PerplexityRatio, Estimate PerplexityDifference, Estimate Kld, IReadOnlyList<double> SortedKld,
    Estimate SameTop, Estimate DeltaPRms, int Tokens, int Chunks, int ContextLength)
{
    public int ScoredTokens => SortedKld.Count;
    public double KldMinimum => SortedKld[0];
    public double KldMedian => KldPercentile(0.5);
    public double KldMaximum => SortedKld[^1];

    /// <summary>
    /// The KL divergence below which <paramref name="fraction"/> of the scored tokens lie, interpolated linearly between
    /// neighbours at fraction x (n - 1) as llama.cpp does (0.5 gives the median: the mean of the middle two when n is even).
    /// </summary>
    public double KldPercentile(double fraction)
    {
        if (fraction <= 0) return SortedKld[0];
        if (fraction >= 1) return SortedKld[^1];
        double at = fraction * (SortedKld.Count - 1);
        int below = (int)at;
        double t = at - below;
        return (1 - t) * SortedKld[below] + t * SortedKld[Math.Min(below + 1, SortedKld.Count - 1)];
    }
}

/// <summary>
/// llama.cpp's KL-divergence mode of the perplexity tool (<c>--kl-divergence-base</c> / <c>--kl-divergence</c>): a
/// reference run (full-precision weights and KV cache) saves the log-probabilities of every scored position of the
/// perplexity windows (<see cref="BaseLogitsFile"/>); a run with lossy settings evaluates the same windows and
/// compares, token by token, its distribution with the base's. KL(base || Q) is the quality cost of the lossy setting
/// in nats per token, with far less noise than a difference of two perplexities.
/// </summary>
public static class KlDivergence
{
    /// <summary>
    /// KL(P || Q) = Σ p_i (log p_i - log q_i) for two rows of log-probabilities, summed in double; terms with p_i = 0
    /// count 0 (the limit of p log p). Unlike llama.cpp, which skips base log-probabilities below -16 (its 16-bit codes
    /// cannot hold them), every term counts: the sum is then a true divergence, never negative beyond rounding.
    /// </summary>
    /// <param name="logP">[vocab] log-probabilities of P (the base).</param>
    /// <param name="logQ">[vocab] log-probabilities of Q (the model measured).</param>
    /// <param name="scratch">[vocab] work space.</param>
    public static double Between(ReadOnlySpan<float> logP, ReadOnlySpan<float> logQ, Span<float> scratch)
    {
        if (logQ.Length != logP.Length || scratch.Length < logP.Length)
            throw new ArgumentException($"rows of equal length expected, got {logP.Length}, {logQ.Length} and a scratch of {scratch.Length}");
        scratch = scratch[..logP.Length];
        TensorPrimitives.Exp(logP, scratch);
        double sum = 0;
        for (int i = 0; i < logP.Length; i++)
            if (scratch[i] > 0) sum += scratch[i] * ((double)logP[i] - logQ[i]);
        return sum;
    }

    /// <summary>
    /// Evaluates <paramref name="windows"/> with <paramref name="model"/> and compares each scored position with the
    /// base's row for it.
    /// </summary>
    /// <param name="baseFile">the base, opened and positioned at its first row; it must have been saved from these windows.</param>
    /// <param name="onChunk">called after each window with its 1-based number and the running statistics.</param>
    /// <exception cref="InvalidDataException">the base was saved from another vocabulary, window, BOS or text.</exception>
    public static KlDivergenceResult Measure(ILanguageModel model, PerplexityWindows windows, BaseLogitsReader baseFile,
        Action<int, KlDivergenceStatistics>? onChunk = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(baseFile);
        int vocab = model.Config.VocabSize;
        baseFile.EnsureMatches(windows, vocab);
        var statistics = new KlDivergenceStatistics(vocab);
        var baseRow = new float[vocab];   // [vocab] the base's log-probabilities at the current position
        windows.Evaluate(model, (logits, target) =>
        {
            baseFile.ReadRow(baseRow);
            statistics.Add(baseRow, logits, target);
        }, chunk => onChunk?.Invoke(chunk, statistics), cancellationToken);

        return new KlDivergenceResult(statistics.Perplexity, statistics.BasePerplexity, statistics.LogPerplexityCorrelation,
            statistics.LogPerplexityRatio, statistics.PerplexityRatio, statistics.PerplexityDifference, statistics.Kld,
            statistics.SortedKld(), statistics.SameTop, statistics.DeltaPRms, windows.Tokens.Count, windows.Count, windows.ContextLength);
    }
}
