using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q5_K: like <see cref="BlockQ4_K"/> with a fifth bit per element in Qh;
/// x = d * sc * q - dmin * m with 5-bit q.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    public const int Elements = 256;

    public ushort D;              // fp16 super-block scale of the 6-bit scales
    public ushort DMin;           // fp16 super-block scale of the 6-bit mins
    public fixed byte Scales[12]; // 8 scales + 8 mins, 6 bits each (see KQuantScales.ScaleMinK4)
    public fixed byte Qh[32];     // 5th bit: bit 2c of Qh[l] for element l of sub-block 2c, bit 2c+1 for sub-block 2c+1
    public fixed byte Qs[128];    // low 4 bits, laid out as in Q4_K

    /// <summary>dequantize_row_q5_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ5_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ5_K* first = blocks)
        fixed (float* yFirst = dst)
        {
            float* y = yFirst;
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ5_K* b = first + i;
                float d = GgmlScalar.Fp16ToFloat(b->D);
                float min = GgmlScalar.Fp16ToFloat(b->DMin);
                var scales = new ReadOnlySpan<byte>(b->Scales, 12);
                byte* ql = b->Qs;
                byte* qh = b->Qh;
                int u1 = 1, u2 = 2;
                for (int j = 0, s = 0; j < Elements; j += 64, s += 2)
                {
                    KQuantScales.ScaleMinK4(s, scales, out byte sc, out byte m);
                    float d1 = d * sc, m1 = min * m;
                    KQuantScales.ScaleMinK4(s + 1, scales, out sc, out m);
                    float d2 = d * sc, m2 = min * m;
                    for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                    for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                    ql += 32;
                    u1 <<= 2;
                    u2 <<= 2;
                }
            }
        }
    }

    /// <summary>quantize_row_q5_K_ref: as Q4_K with 5-bit quants and a gentler scale search (-0.5 + 0.1 * 15 steps).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ5_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        Span<byte> levels = stackalloc byte[Elements];
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            ref BlockQ5_K b = ref blocks[i];
            fixed (byte* packed = b.Scales)
            fixed (byte* qh = b.Qh)
            fixed (byte* qsFirst = b.Qs)
            {
                KQuantScales.ScaleMinSuperBlock(x, 31, -0.5f, 0.1f, 15, levels, new Span<byte>(packed, 12), out ushort d, out ushort dMin);
                b.D = d;
                b.DMin = dMin;
                new Span<byte>(qh, 32).Clear();
                byte* ql = qsFirst;
                int m1 = 1, m2 = 2;
                for (int n = 0; n < Elements; n += 64)
                {
                    for (int j = 0; j < 32; j++)
                    {
                        int l1 = levels[n + j];
                        if (l1 > 15) { l1 -= 16; qh[j] |= (byte)m1; }
                        int l2 = levels[n + j + 32];
                        if (l2 > 15) { l2 -= 16; qh[j] |= (byte)m2; }
                        ql[j] = (byte)(l1 | (l2 << 4));
                    }
                    m1 <<= 2;
                    m2 <<= 2;
                    ql += 32;
                }
            }
        }
    }
}
