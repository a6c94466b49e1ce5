using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Frugal.Numerics.Quant;

/// <summary>ggml block_q5_1: 32 elements as 5-bit q with fp16 scale and minimum; x = d * q + m.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    public const int Elements = 32;

    public ushort D;            // fp16 scale
    public ushort M;            // fp16 minimum
    public fixed byte Qh[4];    // bit j of this little-endian uint: 5th bit of element j
    public fixed byte Qs[16];   // low 4 bits: low nibble element j, high nibble element j + 16

    /// <summary>dequantize_row_q5_1: <paramref name="dst"/> is [blocks.Length * 32].</summary>
    public static void Dequantize(ReadOnlySpan<BlockQ5_1> blocks, Span<float> dst)
    {
        QuantChecks.Lengths(blocks.Length, Elements, dst.Length);
        for (int i = 0; i < blocks.Length; i++)
        {
            ref readonly BlockQ5_1 b = ref blocks[i];
            float d = GgmlScalar.Fp16ToFloat(b.D);
            float m = GgmlScalar.Fp16ToFloat(b.M);
            uint qh = HighBits(in b);
            Span<float> y = dst.Slice(i * Elements, Elements);
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) << 4) & 0x10;
                int h1 = (int)(qh >> (j + 12)) & 0x10;
                y[j] = ((b.Qs[j] & 0x0F) | h0) * d + m;
                y[j + 16] = ((b.Qs[j] >> 4) | h1) * d + m;
            }
        }
    }

    /// <summary>quantize_row_q5_1_ref: d = (max - min) / 31, m = min, q = trunc((x - min) / d + 0.5).</summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<BlockQ5_1> blocks)
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
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            ref BlockQ5_1 b = ref blocks[i];
            b.D = GgmlScalar.FloatToFp16(d);
            b.M = GgmlScalar.FloatToFp16(min);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                byte q0 = (byte)GgmlScalar.TruncateToInt32((x[j] - min) * id + 0.5f);
                byte q1 = (byte)GgmlScalar.TruncateToInt32((x[j + 16] - min) * id + 0.5f);
                b.Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= ((q0 & 0x10u) >> 4) << j;
                qh |= ((q1 & 0x10u) >> 4) << (j + 16);
            }
            SetHighBits(ref b, qh);
        }
    }

    private static uint HighBits(in BlockQ5_1 b)
    {
        fixed (byte* p = b.Qh) return BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(p, 4));
    }

    private static void SetHighBits(ref BlockQ5_1 b, uint qh)
    {
        fixed (byte* p = b.Qh) BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(p, 4), qh);
    }
}
