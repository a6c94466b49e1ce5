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
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ4_K b = ref blocks[i];
            fixed (byte* packed = b.Scales)
            fixed (byte* qs = b.Qs)
            {
                KQuantScales.ScaleMinSuperBlock(x, 15, -1f, 0.1f, 20, levels, new Span<byte>(packed, 12), out ushort d, out ushort dMin);
                b.D = d;
                b.DMin = dMin;
                for (int j = 0, o = 0; j < Elements; j += 64, o += 32)
                    for (int l = 0; l < 32; l++)
                        qs[o + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 4));
            }
        }
    }
}
