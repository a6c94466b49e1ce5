using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>
/// Scaled dot-product attention of one query over a run of cached keys and values, with the online softmax of
/// "Self-attention Does Not Need O(n²) Memory" (Rabe &amp; Staats) / FlashAttention: keys are visited in tiles of
/// <see cref="TileSize"/>, a running maximum and denominator rescale the accumulator, and no score row of the
/// full context length is ever stored.
/// </summary>
public static class Attention
{
    /// <summary>Keys scored per tile; the caller's score scratch holds this many floats.</summary>
    public const int TileSize = 64;

    /// <summary>
    /// output = softmax(scale · q·Kᵀ) · V over keys 0..count-1. Key j's head sits at keys[j·stride + offset ..]
    /// (same for values), so one [positions, kvDim] cache serves every KV head. <paramref name="scores"/> is
    /// scratch of at least <see cref="TileSize"/> floats; <paramref name="output"/> is [q.Length].
    /// </summary>
    public static void SingleQuery(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values,
        int count, int stride, int offset, float scale, Span<float> scores, Span<float> output)
    {
        int d = q.Length;
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"attention needs at least one key, got {count}");
        long last = (long)(count - 1) * stride + offset + d;
        if (offset < 0 || offset + d > stride || keys.Length < last || values.Length < last)
            throw new ArgumentException($"{count} keys of stride {stride} at offset {offset} (head {d}) need {last} floats, got keys {keys.Length}, values {values.Length}");
        if (scores.Length < TileSize) throw new ArgumentException($"score scratch needs {TileSize} floats, got {scores.Length}", nameof(scores));
        if (output.Length < d) throw new ArgumentException($"output needs {d} floats, got {output.Length}", nameof(output));

        var acc = output[..d];
        acc.Clear();
        float runningMax = float.NegativeInfinity;
        float denominator = 0;
        for (int start = 0; start < count; start += TileSize)
        {
            int n = Math.Min(TileSize, count - start);
            var s = scores[..n];
            for (int j = 0; j < n; j++)
                s[j] = scale * TensorPrimitives.Dot(q, keys.Slice((start + j) * stride + offset, d));
            float tileMax = TensorPrimitives.Max(s);
            if (tileMax > runningMax)
            {
                // exp(-inf) = 0 on the first tile, which zeroes the (already zero) accumulator.
                float rescale = MathF.Exp(runningMax - tileMax);
                TensorPrimitives.Multiply(acc, rescale, acc);
                denominator *= rescale;
                runningMax = tileMax;
            }
            TensorPrimitives.Subtract(s, runningMax, s);
            TensorPrimitives.Exp(s, s);
            denominator += TensorPrimitives.Sum(s);
            for (int j = 0; j < n; j++)
                TensorPrimitives.MultiplyAdd(values.Slice((start + j) * stride + offset, d), s[j], acc, acc);
        }
        TensorPrimitives.Divide(acc, denominator, acc);
    }
}
