using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>Numerically stable softmax: the maximum is subtracted before exponentiating.</summary>
public static class Softmax
{
    /// <summary>y = exp(x - max x) / Σ exp(x - max x); <paramref name="y"/> may be <paramref name="x"/>.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) throw new ArgumentException("softmax of an empty vector is undefined", nameof(x));
        if (y.Length < x.Length) throw new ArgumentException($"softmax of {x.Length} elements needs an output of that length, got {y.Length}");
        var dst = y[..x.Length];
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, dst);
        TensorPrimitives.Exp(dst, dst);
        float sum = TensorPrimitives.Sum(dst);
        TensorPrimitives.Divide(dst, sum, dst);
    }
}
