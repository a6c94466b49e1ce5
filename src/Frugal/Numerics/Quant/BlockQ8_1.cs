using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q8_1: 32 activations as int8 with an fp16 scale and the fp16 of d * sum(q), the form llama.cpp
/// quantizes activations to for Q4_1/Q5_1 dot products (the sum folds the weights' minimum in); x = d * q.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public ushort S;            // fp16 of d * (sum of Qs)
    public fixed sbyte Qs[32];  // quants

    /// <summary>quantize_row_q8_1_ref: as <see cref="BlockQ8_0.Quantize"/>, plus the scaled sum.</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ8_1> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ8_1 b = ref blocks[i];
            float amax = 0f;
            for (int j = 0; j < Elements; j++)
            {
                float a = MathF.Abs(x[j]);
                amax = amax > a ? amax : a;
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = GgmlScalar.FloatToFp16(d);
            int sum = 0;
            for (int j = 0; j < Elements; j++)
            {
                b.Qs[j] = (sbyte)GgmlScalar.ToInt8(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
                sum += b.Qs[j];
            }
            b.S = GgmlScalar.FloatToFp16(sum * d);
        }
    }

    /// <summary>
    /// Activation quantization as llama.cpp's x86 CPU backend does it (ggml-cpu quantize_row_q8_1, AVX builds):
    /// see <see cref="BlockQ8_0.QuantizeActivations"/>; the sum is taken over the quants before the int8 pack.
    /// </summary>
    public static void QuantizeActivations(ReadOnlySpan<float> src, Span<BlockQ8_1> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ8_1 b = ref blocks[i];
            float id = BlockQ8_0.ActivationScale(x, out float d);
            b.D = GgmlScalar.FloatToFp16(d);
            int sum = 0;
            for (int j = 0; j < Elements; j++)
            {
                int q = BlockQ8_0.RoundToInt32Like(x[j] * id);
                sum = unchecked(sum + q);
                b.Qs[j] = (sbyte)Math.Clamp(q, sbyte.MinValue, sbyte.MaxValue);
            }
            b.S = GgmlScalar.FloatToFp16(d * sum);
        }
    }
}
