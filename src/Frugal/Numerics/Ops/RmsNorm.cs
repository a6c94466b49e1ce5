using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>Root-mean-square layer normalization (Zhang &amp; Sennrich, 2019), as ggml_rms_norm followed by ggml_mul.</summary>
public static class RmsNorm
{
    /// <summary>
    /// y = x / sqrt(mean(x²) + eps) ⊙ weight. <paramref name="y"/> may be <paramref name="x"/> itself.
    /// </summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y)
    {
        if (weight.Length != x.Length || y.Length < x.Length)
            throw new ArgumentException($"RMSNorm over {x.Length} elements needs a weight of {x.Length} (got {weight.Length}) and an output of at least {x.Length} (got {y.Length})");
        // ggml sums the squares in double; at model widths the float sum differs in the 7th digit only.
        float mean = TensorPrimitives.SumOfSquares(x) / x.Length;
        float scale = 1.0f / MathF.Sqrt(mean + eps);
        var dst = y[..x.Length];
        TensorPrimitives.Multiply(x, scale, dst);
        TensorPrimitives.Multiply(dst, weight, dst);
    }

    /// <summary>Normalizes each of the <paramref name="rows"/> consecutive rows of length weight.Length in place or into y.</summary>
    public static void ApplyRows(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float eps, Span<float> y, int rows)
    {
        int d = weight.Length;
        if (x.Length < rows * d || y.Length < rows * d)
            throw new ArgumentException($"RMSNorm over {rows} rows of {d} needs {rows * d} elements in and out (got {x.Length}, {y.Length})");
        for (int r = 0; r < rows; r++)
            Apply(x.Slice(r * d, d), weight, eps, y.Slice(r * d, d));
    }
}
