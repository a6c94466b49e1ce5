using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q2_K: a super-block of 256 elements in 16 sub-blocks of 16, each with a 4-bit scale and 4-bit min;
/// x = d * sc * q - dmin * m with 2-bit q.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    public const int Elements = 256;

    public fixed byte Scales[16]; // low nibble: scale, high nibble: min, per sub-block
    public fixed byte Qs[64];     // 2 chunks of 32 bytes; in chunk c, bits 2k..2k+1 of byte l: element 128c + 32k + l
    public ushort D;              // fp16 super-block scale of the scales
    public ushort DMin;           // fp16 super-block scale of the mins

    /// <summary>dequantize_row_q2_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ2_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ2_K* first = blocks)
        fixed (float* yFirst = dst)
        {
            float* y = yFirst;
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ2_K* b = first + i;
                float d = GgmlScalar.Fp16ToFloat(b->D);
                float min = GgmlScalar.Fp16ToFloat(b->DMin);
                byte* q = b->Qs;
                int s = 0;
                for (int n = 0; n < Elements; n += 128)
                {
                    for (int shift = 0; shift < 8; shift += 2)
                    {
                        for (int half = 0; half < 32; half += 16)
                        {
                            byte sc = b->Scales[s++];
                            float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                            for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + half] >> shift) & 3) - ml;
                        }
                    }
                    q += 32;
                }
            }
        }
    }

    /// <summary>
    /// quantize_row_q2_K_ref: per sub-block an asymmetric search minimizing |error| weighted by |x|, the scales and
    /// mins quantized to 4 bits against their maxima, then every element re-quantized with the stored values.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ2_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        Span<byte> levels = stackalloc byte[Elements];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        const float q4scale = 15f;
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                ReadOnlySpan<float> xs = x.Slice(16 * j, 16);
                for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(xs[l]);
                scales[j] = KQuantScales.AsymmetricSearch(3, xs, weights, levels.Slice(16 * j, 16), out mins[j], -0.5f, 0.1f, 15, true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }
            ref BlockQ2_K b = ref blocks[i];
            fixed (byte* sc = b.Scales)
            fixed (byte* qs = b.Qs)
            {
                if (maxScale > 0)
                {
                    float iscale = q4scale / maxScale;
                    for (int j = 0; j < 16; j++) sc[j] = (byte)GgmlScalar.NearestInt(iscale * scales[j]);
                    b.D = GgmlScalar.FloatToFp16(maxScale / q4scale);
                }
                else
                {
                    for (int j = 0; j < 16; j++) sc[j] = 0;
                    b.D = GgmlScalar.FloatToFp16(0f);
                }
                if (maxMin > 0)
                {
                    float iscale = q4scale / maxMin;
                    for (int j = 0; j < 16; j++) sc[j] |= (byte)(GgmlScalar.NearestInt(iscale * mins[j]) << 4);
                    b.DMin = GgmlScalar.FloatToFp16(maxMin / q4scale);
                }
                else
                {
                    b.DMin = GgmlScalar.FloatToFp16(0f);
                }
                float dAll = GgmlScalar.Fp16ToFloat(b.D), minAll = GgmlScalar.Fp16ToFloat(b.DMin);
                for (int j = 0; j < 16; j++)
                {
                    float d = dAll * (sc[j] & 0xF);
                    if (d == 0) continue;
                    float dm = minAll * (sc[j] >> 4);
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * j + ii] = (byte)Math.Clamp(GgmlScalar.NearestInt((x[16 * j + ii] + dm) / d), 0, 3);
                }
                for (int j = 0; j < Elements; j += 128)
                    for (int l = 0; l < 32; l++)
                        qs[j / 4 + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
            }
        }
    }
}
