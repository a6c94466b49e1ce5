using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>
/// ggml block_iq4_nl: 32 elements as 4-bit indices into a fixed non-linear table (<see cref="Values"/>) with one fp16
/// scale; x = d * kvalues_iq4nl[q]. The table puts more levels near zero, where trained weights cluster.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_NL
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public fixed byte Qs[16];   // low nibble of Qs[j]: element j; high nibble: element j + 16

    /// <summary>ggml-common.h kvalues_iq4nl: the 16 levels the nibbles index, shared with IQ4_XS.</summary>
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>dequantize_row_iq4_nl: <paramref name="dst"/> is [blocks.Length * 32].</summary>
    public static void Dequantize(ReadOnlySpan<BlockIQ4_NL> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        var kv = Values;
        for (int i = 0; i < blocks.Length; i++)
        {
            ref readonly BlockIQ4_NL b = ref blocks[i];
            float d = GgmlScalar.Fp16ToFloat(b.D);
            Span<float> y = dst.Slice(i * Elements, Elements);
            for (int j = 0; j < 16; j++)
            {
                y[j] = d * kv[b.Qs[j] & 0x0F];
                y[j + 16] = d * kv[b.Qs[j] >> 4];
            }
        }
    }
}
