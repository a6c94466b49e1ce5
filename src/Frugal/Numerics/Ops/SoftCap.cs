using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>Logit soft-capping (Gemma 2): x ← cap · tanh(x / cap), bounding |x| below cap smoothly, as llama.cpp's scale-tanh-scale.</summary>
public static class SoftCap
{
    public static void Apply(Span<float> x, float cap)
    {
        if (!(cap > 0) || float.IsInfinity(cap)) throw new ArgumentOutOfRangeException(nameof(cap), cap, "a soft-cap must be positive and finite");
        TensorPrimitives.Multiply(x, 1f / cap, x);
        TensorPrimitives.Tanh(x, x);
        TensorPrimitives.Multiply(x, cap, x);
    }
}
