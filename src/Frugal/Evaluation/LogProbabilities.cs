using System.Numerics.Tensors;

namespace Frugal.Evaluation;

/// <summary>Log-softmax of a logits row, computed the way llama.cpp's perplexity tool does (max subtracted, sum in double).</summary>
public static class LogProbabilities
{
    /// <summary>log Σ exp(logits) as max + log Σ exp(x - max), the exponentials summed in double.</summary>
    /// <param name="scratch">[vocab] work space; receives exp(x - max).</param>
    public static double LogNormalizer(ReadOnlySpan<float> logits, Span<float> scratch)
    {
        if (logits.IsEmpty) throw new ArgumentException("the logits row is empty", nameof(logits));
        if (scratch.Length < logits.Length)
            throw new ArgumentException($"the scratch holds {scratch.Length} floats; the row has {logits.Length}", nameof(scratch));
        scratch = scratch[..logits.Length];
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        double sum = 0;
        foreach (float e in scratch) sum += e;
        return max + Math.Log(sum);
    }

    /// <summary>log softmax(logits)[target], in double.</summary>
    public static double Of(ReadOnlySpan<float> logits, int target, Span<float> scratch) =>
        logits[target] - LogNormalizer(logits, scratch);

    /// <summary>
    /// <paramref name="destination"/>[i] = log softmax(logits)[i], each rounded once to float from a double difference,
    /// so two identical rows give bit-identical log-probabilities (the KL divergence of a model against itself is 0).
    /// </summary>
    /// <returns>the <see cref="LogNormalizer"/> subtracted.</returns>
    public static double Compute(ReadOnlySpan<float> logits, Span<float> destination, Span<float> scratch)
    {
        if (destination.Length != logits.Length)
            throw new ArgumentException($"the destination holds {destination.Length} floats; the row has {logits.Length}", nameof(destination));
        double normalizer = LogNormalizer(logits, scratch);
        for (int i = 0; i < logits.Length; i++) destination[i] = (float)(logits[i] - normalizer);
        return normalizer;
    }
}
