using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_iq4_xs: a super-block of 256 elements in 8 sub-blocks of 32, each an IQ4_NL-style block of nibbles
/// (indices into <see cref="BlockIQ4_NL.Values"/>) with a 6-bit scale ls stored as 4 low bits in ScalesL and 2 high
/// bits in ScalesH; x = d * (ls - 32) * kvalues_iq4nl[q]. 4.25 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_XS
{
    public const int Elements = 256;

    public ushort D;              // fp16 super-block scale
    public ushort ScalesH;        // bits 2j, 2j + 1: high bits of sub-block j's scale
    public fixed byte ScalesL[4]; // byte j / 2, nibble j % 2: low bits of sub-block j's scale
    public fixed byte Qs[128];    // sub-block j: Qs[16j .. 16j + 15], low nibbles elements 0..15, high 16..31

    /// <summary>The 6-bit scale of sub-block <paramref name="j"/> minus 32, as dequantize_row_iq4_xs forms it.</summary>
    public static int Scale(ushort scalesH, byte* scalesL, int j) =>
        (((scalesL[j / 2] >> (4 * (j % 2))) & 0xF) | (((scalesH >> (2 * j)) & 3) << 4)) - 32;

    /// <summary>dequantize_row_iq4_xs: <paramref name="dst"/> is [blocks.Length * 256].</summary>
    public static void Dequantize(ReadOnlySpan<BlockIQ4_XS> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        var kv = BlockIQ4_NL.Values;
        fixed (BlockIQ4_XS* first = blocks)
        {
            for (int i = 0; i < blocks.Length; i++)
            {
                BlockIQ4_XS* b = first + i;
                float d = GgmlScalar.Fp16ToFloat(b->D);
                for (int j = 0; j < 8; j++)
                {
                    float dl = d * Scale(b->ScalesH, b->ScalesL, j);
                    byte* qs = b->Qs + 16 * j;
                    Span<float> y = dst.Slice(i * Elements + 32 * j, 32);
                    for (int l = 0; l < 16; l++)
                    {
                        y[l] = dl * kv[qs[l] & 0x0F];
                        y[l + 16] = dl * kv[qs[l] >> 4];
                    }
                }
            }
        }
    }
}
