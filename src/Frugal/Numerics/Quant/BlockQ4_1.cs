using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>ggml block_q4_1: 32 elements as 4-bit q with fp16 scale and minimum; x = d * q + m.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public ushort M;            // fp16 minimum
    public fixed byte Qs[16];   // low nibble of Qs[j]: element j; high nibble: element j + 16

    /// <summary>dequantize_row_q4_1: <paramref name="dst"/> is [blocks.Length * 32].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ4_1> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ref readonly BlockQ4_1 b = ref blocks[i];
            float d = GgmlScalar.Fp16ToFloat(b.D);
            float m = GgmlScalar.Fp16ToFloat(b.M);
            Span<float> y = dst.Slice(i * Elements, Elements);
            for (int j = 0; j < 16; j++)
            {
                // ggml rounds the product before adding (no fused multiply-add).
                y[j] = (b.Qs[j] & 0x0F) * d + m;
                y[j + 16] = (b.Qs[j] >> 4) * d + m;
            }
        }
    }

    /// <summary>quantize_row_q4_1_ref: d = (max - min) / 15, m = min, q = trunc((x - min) / d + 0.5).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ4_1> blocks)
    {
        QuantChecks.Lengths(blocks.Length, Elements, src.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * Elements, Elements);
            float min = float.MaxValue, max = -float.MaxValue;
            for (int j = 0; j < Elements; j++)
            {
                if (x[j] < min) min = x[j];
                if (x[j] > max) max = x[j];
            }
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            ref BlockQ4_1 b = ref blocks[i];
            b.D = GgmlScalar.FloatToFp16(d);
            b.M = GgmlScalar.FloatToFp16(min);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, GgmlScalar.ToInt8((x[j] - min) * id + 0.5f));
                int q1 = Math.Min(15, GgmlScalar.ToInt8((x[j + 16] - min) * id + 0.5f));
                b.Qs[j] = (byte)((byte)q0 | (byte)(q1 << 4));
            }
        }
    }
}
