using System.Numerics.Tensors;

namespace Frugal.Numerics.Ops;

/// <summary>
/// The GeGLU feed-forward gate (Shazeer, "GLU Variants Improve Transformer"; Gemma): GELU(gate) ⊙ up, with GELU's tanh
/// approximation 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))). Computed as ggml's CPU backend computes it (its
/// GGML_GELU_FP16 path, on by default): the input is rounded to f16 and looked up in a table of f16 results, 0 below
/// −10 and x above 10, so that logits agree with llama.cpp beyond the ~1e-3 relative step that f16 rounding takes.
/// </summary>
public static class GeGlu
{
    private const float CoefA = 0.044715f;
    private const float SqrtTwoOverPi = 0.79788456080286535587989211986876f;
    private const int Chunk = 256;

    /// <summary>GELU-tanh of every f16 value, rounded to f16 and widened back (ggml_table_gelu_f16).</summary>
    private static readonly float[] Table = BuildTable();

    /// <summary>GELU-tanh of one value in f32 (ggml_gelu_f32), the formula the table holds.</summary>
    public static float Gelu(float x) => 0.5f * x * (1.0f + MathF.Tanh(SqrtTwoOverPi * x * (1.0f + CoefA * x * x)));

    /// <summary>gate ← GELU(gate) ⊙ up, element-wise, as ggml_vec_geglu_f32.</summary>
    public static void ApplyInPlace(Span<float> gate, ReadOnlySpan<float> up)
    {
        if (up.Length != gate.Length)
            throw new ArgumentException($"GeGLU of {gate.Length} gate elements needs {gate.Length} up elements, got {up.Length}");
        if (gate.Overlaps(up)) throw new ArgumentException("GeGLU gate and up must not overlap");
        Span<Half> half = stackalloc Half[Chunk];
        var table = Table;
        for (int start = 0; start < gate.Length; start += Chunk)
        {
            int n = Math.Min(Chunk, gate.Length - start);
            var g = gate.Slice(start, n);
            TensorPrimitives.ConvertToHalf(g, half[..n]);
            for (int i = 0; i < n; i++)
            {
                float x = g[i];
                g[i] = x <= -10.0f ? 0.0f : x >= 10.0f ? x : table[BitConverter.HalfToUInt16Bits(half[i])];
            }
            TensorPrimitives.Multiply(g, up.Slice(start, n), g);
        }
    }

    private static float[] BuildTable()
    {
        var table = new float[1 << 16];
        for (int i = 0; i < table.Length; i++)
            table[i] = (float)(Half)Gelu((float)BitConverter.UInt16BitsToHalf((ushort)i));
        return table;
    }
}
