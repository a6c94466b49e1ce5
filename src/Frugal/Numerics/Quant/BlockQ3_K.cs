using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_q3_K: a super-block of 256 elements in 16 sub-blocks of 16, each with a 6-bit signed scale;
/// x = d * (sc - 32) * (q - 4) with 3-bit q (2 low bits in Qs, the high bit in HMask).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    public const int Elements = 256;

    public fixed byte HMask[32];  // high bit: bit k of HMask[l] for element 32k + l
    public fixed byte Qs[64];     // low 2 bits, laid out as in Q2_K
    public fixed byte Scales[12]; // 16 scales of 6 bits: low nibbles in bytes 0..7, high 2 bits in bytes 8..11
    public ushort D;              // fp16 super-block scale

    /// <summary>The 6-bit scale (0..63, stored with +32 bias) of sub-block <paramref name="j"/> from the 12 packed bytes.</summary>
    internal static int Scale(byte* scales, int j)
    {
        int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
        return low | (((scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4);
    }

    /// <summary>dequantize_row_q3_K: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ3_K> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        fixed (BlockQ3_K* first = blocks)
        fixed (float* yFirst = dst)
        {
            float* y = yFirst;
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockQ3_K* b = first + i;
                float dAll = GgmlScalar.Fp16ToFloat(b->D);
                byte* q = b->Qs;
                byte* hm = b->HMask;
                int m = 1, s = 0;
                for (int n = 0; n < Elements; n += 128)
                {
                    for (int shift = 0; shift < 8; shift += 2)
                    {
                        for (int half = 0; half < 32; half += 16)
                        {
                            float dl = dAll * (Scale(b->Scales, s++) - 32);
                            for (int l = 0; l < 16; l++)
                                *y++ = dl * (((q[l + half] >> shift) & 3) - ((hm[l + half] & m) != 0 ? 0 : 4));
                        }
                        m <<= 1;
                    }
                    q += 32;
                }
            }
        }
    }

    /// <summary>
    /// quantize_row_q3_K_ref: per sub-block a refined symmetric search (weight x²), the 16 scales quantized to
    /// 6 bits against the largest, then every element re-quantized with the stored scales.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ3_K> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        Span<sbyte> levels = stackalloc sbyte[Elements];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = KQuantScales.SymmetricRefine(4, x.Slice(16 * j, 16), levels.Slice(16 * j, 16));
                float scale = MathF.Abs(scales[j]);
                if (scale > amax) { amax = scale; maxScale = scales[j]; }
            }
            ref BlockQ3_K b = ref blocks[i];
            fixed (byte* sc = b.Scales)
            fixed (byte* hmask = b.HMask)
            fixed (byte* qs = b.Qs)
            {
                new Span<byte>(sc, 12).Clear();
                if (maxScale != 0)
                {
                    float iscale = -32f / maxScale;
                    for (int j = 0; j < 16; j++)
                    {
                        // C stores nearest_int into an int8_t before clamping.
                        int l = Math.Clamp((int)(sbyte)GgmlScalar.NearestInt(iscale * scales[j]), -32, 31) + 32;
                        if (j < 8) sc[j] = (byte)(l & 0xF);
                        else sc[j - 8] |= (byte)((l & 0xF) << 4);
                        l >>= 4;
                        sc[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                    }
                    b.D = GgmlScalar.FloatToFp16(1 / iscale);
                }
                else
                {
                    b.D = GgmlScalar.FloatToFp16(0f);
                }
                float dAll = GgmlScalar.Fp16ToFloat(b.D);
                for (int j = 0; j < 16; j++)
                {
                    float d = dAll * (Scale(sc, j) - 32);
                    if (d == 0) continue;
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * j + ii] = (sbyte)(Math.Clamp(GgmlScalar.NearestInt(x[16 * j + ii] / d), -4, 3) + 4);
                }
                new Span<byte>(hmask, 32).Clear();
                int m = 0;
                byte hm = 1;
                for (int j = 0; j < Elements; j++)
                {
                    if (levels[j] > 3)
                    {
                        hmask[m] |= hm;
                        levels[j] -= 4;
                    }
                    if (++m == 32)
                    {
                        m = 0;
                        hm <<= 1;
                    }
                }
                for (int j = 0; j < Elements; j += 128)
                    for (int l = 0; l < 32; l++)
                        qs[j / 4 + l] = (byte)((byte)levels[j + l] | ((byte)levels[j + l + 32] << 2) | ((byte)levels[j + l + 64] << 4) | ((byte)levels[j + l + 96] << 6));
            }
        }
    }
}
