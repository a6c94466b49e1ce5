using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Frugal.Numerics.Quant;

using Frugal.Numerics.Kernels;

namespace Frugal.Numerics.Attention;

/// <summary>
/// q8_0 / q4_0 keys and values in the cache. Each position's head row is quantized by ggml's quantizer into the same
/// blocks (one fp16 scale per 32 elements), so the cache holds llama.cpp's bytes per token. Keys are regrouped per
/// 16-position tile and per 32-element block — the 16 scales, then quant byte k of all 16 positions side by side — so
/// the kernel widens 16 keys' element d with one vector load instead of transposing rows. Values stay ggml rows.
/// </summary>
internal static unsafe class KvBlockTile
{
    private const int T = KvTile.Positions;

    /// <summary>Bytes of one 32-element block of 16 positions: 16 scales, then 16 × (block bytes − 2) quant bytes.</summary>
    private static int TileBlockBytes(KvElementType type) => type == KvElementType.Q8_0 ? T * 34 : T * 18;

    public static void StoreKey(KvElementType type, byte* tile, int j, ReadOnlySpan<float> src)
    {
        int blocks = src.Length / 32, blockBytes = type == KvElementType.Q8_0 ? 34 : 18, quantBytes = blockBytes - 2;
        Span<byte> row = stackalloc byte[blocks * blockBytes];
        Quantize.Row(KvElementTypes.GgmlTypeOf(type), src, row);
        for (int b = 0; b < blocks; b++)
        {
            byte* at = tile + b * TileBlockBytes(type);
            ((ushort*)at)[j] = Unsafe.ReadUnaligned<ushort>(ref row[b * blockBytes]);
            for (int k = 0; k < quantBytes; k++)
                at[2 * T + k * T + j] = row[b * blockBytes + 2 + k];
        }
    }

    /// <summary>kt[d·16 + j] = element d of key j, for a whole tile.</summary>
    public static void LoadKeys(KvElementType type, byte* tile, int hd, float* kt)
    {
        float* scale = stackalloc float[T];
        for (int b = 0; b < hd / 32; b++)
        {
            byte* at = tile + b * TileBlockBytes(type);
            HalfConversion.ToSingle((Half*)at, scale, T);
            byte* q = at + 2 * T;
            float* dst = kt + b * 32 * T;
            if (Avx512F.IsSupported)
            {
                var s = Vector512.Load(scale);
                if (type == KvElementType.Q8_0)
                    for (int e = 0; e < 32; e++)
                        (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)q + e * T))) * s).Store(dst + e * T);
                else
                    for (int k = 0; k < 16; k++)
                    {
                        var x = Avx512F.ConvertToVector512Int32(Vector128.Load(q + k * T));
                        (Avx512F.ConvertToVector512Single((x & Vector512.Create(15)) - Vector512.Create(8)) * s).Store(dst + k * T);
                        (Avx512F.ConvertToVector512Single((x >>> 4) - Vector512.Create(8)) * s).Store(dst + (k + 16) * T);
                    }
                continue;
            }
            for (int j = 0; j < T; j++)
                if (type == KvElementType.Q8_0)
                    for (int e = 0; e < 32; e++) dst[e * T + j] = ((sbyte*)q)[e * T + j] * scale[j];
                else
                    for (int k = 0; k < 16; k++)
                    {
                        int x = q[k * T + j];
                        dst[k * T + j] = ((x & 15) - 8) * scale[j];
                        dst[(k + 16) * T + j] = ((x >> 4) - 8) * scale[j];
                    }
        }
    }

    /// <summary>One ggml q8_0 / q4_0 row of <paramref name="hd"/> elements as floats.</summary>
    public static void LoadRow(KvElementType type, byte* row, int hd, float* dst)
    {
        int blockBytes = type == KvElementType.Q8_0 ? 34 : 18;
        for (int b = 0; b < hd / 32; b++, row += blockBytes, dst += 32)
        {
            float d = GgmlScalar.Fp16ToFloat(*(ushort*)row);
            if (Avx512F.IsSupported)
            {
                var s = Vector512.Create(d);
                if (type == KvElementType.Q8_0)
                {
                    (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)row + 2))) * s).Store(dst);
                    (Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)row + 18))) * s).Store(dst + 16);
                }
                else
                {
                    var x = Avx512F.ConvertToVector512Int32(Vector128.Load(row + 2));
                    (Avx512F.ConvertToVector512Single((x & Vector512.Create(15)) - Vector512.Create(8)) * s).Store(dst);
                    (Avx512F.ConvertToVector512Single((x >>> 4) - Vector512.Create(8)) * s).Store(dst + 16);
                }
                continue;
            }
            if (type == KvElementType.Q8_0)
                for (int e = 0; e < 32; e++) dst[e] = ((sbyte*)row)[2 + e] * d;
            else
                for (int k = 0; k < 16; k++)
                {
                    dst[k] = ((row[2 + k] & 15) - 8) * d;
                    dst[k + 16] = ((row[2 + k] >> 4) - 8) * d;
                }
        }
    }
}
