using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>ggml block_q4_0: 32 elements as 4-bit q with one fp16 scale; x = d * (q - 8).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public fixed byte Qs[16];   // low nibble of Qs[j]: element j; high nibble: element j + 16

    /// <summary>dequantize_row_q4_0: <paramref name="dst"/> is [blocks.Length * 32].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ4_0> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ref readonly BlockQ4_0 b = ref blocks[i];
            float d = GgmlScalar.Fp16ToFloat(b.D);
            Span<float> y = dst.Slice(i * Elements, Elements);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((b.Qs[j] & 0x0F) - 8) * d;
                y[j + 16] = ((b.Qs[j] >> 4) - 8) * d;
            }
        }
    }

    /// <summary>quantize_row_q4_0_ref: d = (the value of largest magnitude) / -8, q = trunc(x / d + 8.5) capped at 15.</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ4_0> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float amax = 0f, max = 0f;
            for (int j = 0; j < Elements; j++)
            {
                if (amax < MathF.Abs(x[j]))
                {
                    amax = MathF.Abs(x[j]);
                    max = x[j];
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            ref BlockQ4_0 b = ref blocks[i];
            b.D = GgmlScalar.FloatToFp16(d);
            for (int j = 0; j < 16; j++)
            {
                // C's (int8_t) cast of the float, then MIN(15, ...) stored as uint8_t.
                int q0 = Math.Min(15, GgmlScalar.ToInt8(x[j] * id + 8.5f));
                int q1 = Math.Min(15, GgmlScalar.ToInt8(x[j + 16] * id + 8.5f));
                b.Qs[j] = (byte)((byte)q0 | (byte)(q1 << 4));
            }
        }
    }
}
