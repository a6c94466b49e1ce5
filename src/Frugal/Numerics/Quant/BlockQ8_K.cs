using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q8_K: 256 activations as int8 with an fp32 scale and the sums of each 16 quants, the form
/// llama.cpp quantizes activations to for k-quant dot products; x = d * q.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    public const int Elements = 256;

    public float D;               // fp32 scale
    public fixed sbyte Qs[256];   // quants
    public fixed short BSums[16]; // sum of Qs[16k .. 16k + 15]

    /// <summary>dequantize_row_q8_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ8_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ8_K* first = blocks)
        fixed (float* y = dst)
        {
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ8_K* b = first + i;
                for (int j = 0; j < Elements; j++)
                    y[i * Elements + j] = b->D * b->Qs[j];
            }
        }
    }

    /// <summary>
    /// quantize_row_q8_K_ref: d = (the value of largest magnitude) / -127, q = nearest(x / d) capped at 127.
    /// An all-zero block gets d = 0 and zero quants (and, unlike ggml, which leaves them as they were, zero sums).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ8_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ8_K b = ref blocks[i];
            float max = 0, amax = 0;
            for (int j = 0; j < Elements; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax) { amax = ax; max = x[j]; }
            }
            if (amax == 0)
            {
                b = default;
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < Elements; j++)
                b.Qs[j] = (sbyte)Math.Min(127, GgmlScalar.NearestInt(iscale * x[j]));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int ii = 0; ii < 16; ii++) sum += b.Qs[j * 16 + ii];
                b.BSums[j] = (short)sum;
            }
            b.D = 1 / iscale;
        }
    }
}
