using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>The SwiGLU feed-forward gate (Shazeer, "GLU Variants Improve Transformer"): SiLU(gate) ⊙ up.</summary>
public static class SwiGlu
{
    /// <summary>SiLU(x) = x · sigmoid(x), element-wise, into <paramref name="y"/> (which must not overlap x).</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException($"SiLU of {x.Length} elements needs an output of that length, got {y.Length}");
        var dst = y[..x.Length];
        if (dst.Overlaps(x)) throw new ArgumentException("SiLU input and output must not overlap");
        TensorPrimitives.Sigmoid(x, dst);
        TensorPrimitives.Multiply(dst, x, dst);
    }

    /// <summary>
    /// gate ← SiLU(gate) ⊙ up, element-wise, without scratch: <paramref name="up"/> is overwritten with gate ⊙ up.
    /// </summary>
    public static void ApplyInPlace(Span<float> gate, Span<float> up)
    {
        if (up.Length != gate.Length)
            throw new ArgumentException($"SwiGLU of {gate.Length} gate elements needs {gate.Length} up elements, got {up.Length}");
        if (gate.Overlaps(up)) throw new ArgumentException("SwiGLU gate and up must not overlap");
        TensorPrimitives.Multiply(up, gate, up);
        TensorPrimitives.Sigmoid(gate, gate);
        TensorPrimitives.Multiply(gate, up, gate);
    }
}
