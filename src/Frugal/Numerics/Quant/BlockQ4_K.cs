using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q4_K: a super-block of 256 elements in 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min;
/// x = d * sc * q - dmin * m with 4-bit q.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    public const int Elements = 256;

    public ushort D;              // fp16 super-block scale of the 6-bit scales
    public ushort DMin;           // fp16 super-block scale of the 6-bit mins
    public fixed byte Scales[12]; // 8 scales + 8 mins, 6 bits each (see KQuantScales.ScaleMinK4)
    public fixed byte Qs[128];    // 4 chunks of 32 bytes; chunk c: low nibbles sub-block 2c, high nibbles 2c + 1

    /// <summary>dequantize_row_q4_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ4_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ4_K* first = blocks)
        fixed (float* yFirst = dst)
        {
            float* y = yFirst;
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ4_K* b = first + i;
                float d = GgmlScalar.Fp16ToFloat(b->D);
                float min = GgmlScalar.Fp16ToFloat(b->DMin);
                var scales = new ReadOnlySpan<byte>(b->Scales, 12);
                byte* q = b->Qs;
                for (int j = 0, s = 0; j < Elements; j += 64, s += 2)
                {
                    KQuantScales.ScaleMinK4(s, scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantScales.ScaleMinK4(s + 1, scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
                    for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
                    q += 32;
                }
            }
        }
    }

    /// <summary>
    /// quantize_row_q4_K_ref: per sub-block an asymmetric scale search weighted by rms + |x|, then the 8 scales and
    /// mins quantized to 6 bits against their maxima, then every element re-quantized with the stored scales.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ4_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        Span<byte> levels = stackalloc byte[Elements];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        Span<byte> ls = stackalloc byte[8];
        Span<byte> lm = stackalloc byte[8];
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 8; j++)
            {
                ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
                scales[j] = KQuantScales.AsymmetricSearch(15, xs, weights, levels.Slice(32 * j, 32), out mins[j], scratch, -1f, 0.1f, 20, false);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            for (int j = 0; j < 8; j++)
            {
                ls[j] = Math.Min((byte)63, (byte)GgmlScalar.NearestInt(invScale * scales[j]));
                lm[j] = Math.Min((byte)63, (byte)GgmlScalar.NearestInt(invMin * mins[j]));
            }
            ref BlockQ4_K b = ref blocks[i];
            fixed (byte* packed = b.Scales)
            fixed (byte* qs = b.Qs)
            {
                var packedScales = new Span<byte>(packed, 12);
                KQuantScales.PackScaleMinK4(ls, lm, packedScales);
                b.D = GgmlScalar.FloatToFp16(maxScale / 63f);
                b.DMin = GgmlScalar.FloatToFp16(maxMin / 63f);
                float dAll = GgmlScalar.Fp16ToFloat(b.D), minAll = GgmlScalar.Fp16ToFloat(b.DMin);
                for (int j = 0; j < 8; j++)
                {
                    KQuantScales.ScaleMinK4(j, packedScales, out byte sc, out byte m);
                    float d = dAll * sc;
                    if (d == 0) continue;
                    float dm = minAll * m;
                    for (int ii = 0; ii < 32; ii++)
                        levels[32 * j + ii] = (byte)Math.Clamp(GgmlScalar.NearestInt((x[32 * j + ii] + dm) / d), 0, 15);
                }
                for (int j = 0, o = 0; j < Elements; j += 64, o += 32)
                    for (int l = 0; l < 32; l++)
                        qs[o + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 4));
            }
        }
    }
}
