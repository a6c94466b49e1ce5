using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q6_K: a super-block of 256 elements in 16 sub-blocks of 16, each with an int8 scale;
/// x = d * sc * (q - 32) with 6-bit q (4 low bits in Ql, 2 high bits in Qh).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    public const int Elements = 256;

    public fixed byte Ql[128];     // low 4 bits, two halves of 64 bytes per 128 elements
    public fixed byte Qh[64];      // high 2 bits, four elements per byte
    public fixed sbyte Scales[16]; // int8 sub-block scales
    public ushort D;               // fp16 super-block scale

    /// <summary>dequantize_row_q6_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ6_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ6_K* first = blocks)
        fixed (float* yFirst = dst)
        {
            float* y = yFirst;
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ6_K* b = first + i;
                float d = GgmlScalar.Fp16ToFloat(b->D);
                byte* ql = b->Ql;
                byte* qh = b->Qh;
                sbyte* sc = b->Scales;
                for (int n = 0; n < Elements; n += 128)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int s = l / 16;
                        int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                        int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                        int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                        int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                        // (d * sc) first, then * q: the order ggml uses.
                        y[l] = d * sc[s] * q1;
                        y[l + 32] = d * sc[s + 2] * q2;
                        y[l + 64] = d * sc[s + 4] * q3;
                        y[l + 96] = d * sc[s + 6] * q4;
                    }
                    y += 128;
                    ql += 64;
                    qh += 32;
                    sc += 8;
                }
            }
        }
    }

    /// <summary>
    /// quantize_row_q6_K_ref: per 16-element sub-block a symmetric scale search (weight x²), the 16 scales
    /// quantized to int8 against the largest, then every element re-quantized with the stored scales.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ6_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        Span<sbyte> levels = stackalloc sbyte[Elements];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ6_K b = ref blocks[i];
            float maxScale = 0, maxAbsScale = 0;
            for (int s = 0; s < 16; s++)
            {
                float scale = KQuantScales.SymmetricSearch(32, x.Slice(16 * s, 16), levels.Slice(16 * s, 16));
                scales[s] = scale;
                if (MathF.Abs(scale) > maxAbsScale)
                {
                    maxAbsScale = MathF.Abs(scale);
                    maxScale = scale;
                }
            }
            if (maxAbsScale < KQuantScales.GroupMaxEps)
            {
                b = default;
                continue;
            }
            float iscale = -128f / maxScale;
            b.D = GgmlScalar.FloatToFp16(1 / iscale);
            float dAll = GgmlScalar.Fp16ToFloat(b.D);
            fixed (sbyte* sc = b.Scales)
            fixed (byte* qlFirst = b.Ql)
            fixed (byte* qhFirst = b.Qh)
            {
                for (int s = 0; s < 16; s++)
                    sc[s] = (sbyte)Math.Min(127, GgmlScalar.NearestInt(iscale * scales[s]));
                for (int s = 0; s < 16; s++)
                {
                    float d = dAll * sc[s];
                    if (d == 0) continue;
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * s + ii] = (sbyte)(Math.Clamp(GgmlScalar.NearestInt(x[16 * s + ii] / d), -32, 31) + 32);
                }
                byte* ql = qlFirst, qh = qhFirst;
                for (int j = 0; j < Elements; j += 128)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int q1 = levels[j + l] & 0xF, q2 = levels[j + l + 32] & 0xF;
                        int q3 = levels[j + l + 64] & 0xF, q4 = levels[j + l + 96] & 0xF;
                        ql[l] = (byte)(q1 | (q3 << 4));
                        ql[l + 32] = (byte)(q2 | (q4 << 4));
                        qh[l] = (byte)((levels[j + l] >> 4) | ((levels[j + l + 32] >> 4) << 2)
                            | ((levels[j + l + 64] >> 4) << 4) | ((levels[j + l + 96] >> 4) << 6));
                    }
                    ql += 64;
                    qh += 32;
                }
            }
        }
    }
}
