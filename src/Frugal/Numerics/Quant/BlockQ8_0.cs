using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>ggml block_q8_0: 32 elements as int8 with one fp16 scale; x = d * q.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public fixed sbyte Qs[32];  // quants, element j at Qs[j]

    /// <summary>dequantize_row_q8_0: <paramref name="dst"/> is [blocks.Length * 32].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ8_0> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ref readonly BlockQ8_0 b = ref blocks[i];
            float d = GgmlScalar.Fp16ToFloat(b.D);
            Span<float> y = dst.Slice(i * Elements, Elements);
            for (int j = 0; j < Elements; j++)
                y[j] = b.Qs[j] * d;
        }
    }

    /// <summary>quantize_row_q8_0_ref: d = amax / 127, q = round(x / d) (half away from zero).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ8_0> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float amax = 0f;
            for (int j = 0; j < Elements; j++)
            {
                float a = MathF.Abs(x[j]);
                amax = amax > a ? amax : a;
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            ref BlockQ8_0 b = ref blocks[i];
            b.D = GgmlScalar.FloatToFp16(d);
            for (int j = 0; j < Elements; j++)
                b.Qs[j] = (sbyte)GgmlScalar.ToInt8(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
        }
    }

    /// <summary>
    /// Activation quantization as llama.cpp's x86 CPU backend does it for Q4_0/Q5_0/Q8_0 dot products
    /// (ggml-cpu quantize_row_q8_0, AVX/AVX2/AVX-512 builds): id = 127 / amax, round half to even, and a
    /// saturating pack to int8. The reference <see cref="Quantize"/> instead uses 1 / (amax / 127) and rounds half
    /// away from zero, so a few quants differ by one; use this one to reproduce llama.cpp's matmul results.
    /// </summary>
    public static void QuantizeActivations(ReadOnlySpan<float> src, Span<BlockQ8_0> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ8_0 b = ref blocks[i];
            float id = ActivationScale(x, out float d);
            b.D = GgmlScalar.FloatToFp16(d);
            for (int j = 0; j < Elements; j++)
                b.Qs[j] = (sbyte)Math.Clamp(RoundToInt32Like(x[j] * id), sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <summary>The AVX path's scale: d = amax / 127 and the returned multiplier 127 / amax (0 for an all-zero block).</summary>
    internal static float ActivationScale(ReadOnlySpan<float> x, out float d)
    {
        float amax = 0f;
        for (int j = 0; j < x.Length; j++)
            amax = MathF.Max(amax, MathF.Abs(x[j]));
        d = amax / 127f;
        return amax != 0f ? 127f / amax : 0f;
    }

    /// <summary>_mm256_round_ps(nearest) then _mm256_cvtps_epi32: half to even, int.MinValue for NaN or out of range.</summary>
    internal static int RoundToInt32Like(float value) => GgmlScalar.TruncateToInt32(MathF.Round(value, MidpointRounding.ToEven));
}
