using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW kernel over <see cref="Q6_Kx16"/> groups: 16 weight rows against one Q8_K activation row, one lane per
/// row. Per super-block and 16-element sub-block j: 6-bit values rebuilt from a ql and a qh chunk (lane i = 4 values of
/// row i), vpmaddubsw against a 4-byte activation broadcast, two such int16 results summed (|sum| ≤ 4·63·127 = 32004),
/// then vpmaddwd with row i's scale j in both int16 halves of lane i: Σ_j sc_j·Σ u·q in exact int32. The −32 offset
/// comes off in integers too (Σ_j sc_j·bsum_j, the activation's 16-element sums), then one f32 FMA per super-block:
/// acc += d · da · (Σ_j sc_j·(Σ u·q − 32·bsum_j)), as ggml's dequantization defines the product.
/// </summary>
internal static unsafe class Q6_Kx16Avx512
{
    /// <summary>
    /// Software prefetch distance, 3 units (10 KB), as in <see cref="Q4_Kx16Avx512"/>: decode of a 2048 x 8192 Q6_K
    /// matrix from DRAM on one thread went from 19.5-21.1 to 22.7-30.3 GB/s (bench kernels, 4 alternating runs).
    /// </summary>
    private const int Ahead = 3 * Q6_Kx16.UnitBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot(byte* group, int nsb, in QuantizedRows a, int col, float* y)
    {
        sbyte* q = a.QsRow(col);
        float* da = a.ScaleRow(col);
        short* bsums = a.SumRow(col);
        Vector512<float> acc = default;
        for (int s = 0; s < nsb; s++)
        {
            byte* meta = group + (nint)s * Q6_Kx16.UnitBytes;
            for (int l = 0; l < Q6_Kx16.MetaBytes; l += 64)
                Sse.Prefetch0(meta + Ahead + l);
            byte* ch = meta + Q6_Kx16.MetaBytes;
            sbyte* qs = q + s * 256;
            short* bs = bsums + s * 16;
            Vector512<int> isum = default, off = default;
            for (int h = 0; h < 2; h++)
                for (int half = 0; half < 2; half++)
                {
                    // Sub-blocks 8h + 2k + half for k = 0..3: elements 128h + 32k + 16·half .. + 15.
                    int j = 8 * h + half;
                    var s0 = Spread(meta + 32 + 16 * j);
                    var s1 = Spread(meta + 32 + 16 * (j + 2));
                    var s2 = Spread(meta + 32 + 16 * (j + 4));
                    var s3 = Spread(meta + 32 + 16 * (j + 6));
                    off += Avx512BW.MultiplyAddAdjacent(s0, Vector512.Create((int)(ushort)bs[j]).AsInt16())
                         + Avx512BW.MultiplyAddAdjacent(s1, Vector512.Create((int)(ushort)bs[j + 2]).AsInt16())
                         + Avx512BW.MultiplyAddAdjacent(s2, Vector512.Create((int)(ushort)bs[j + 4]).AsInt16())
                         + Avx512BW.MultiplyAddAdjacent(s3, Vector512.Create((int)(ushort)bs[j + 6]).AsInt16());
                    for (int lp = 0; lp < 2; lp++)
                    {
                        int lq = 4 * half + 2 * lp;
                        Quad(ch, qs, h, lq, out var p0, out var p1, out var p2, out var p3);
                        Quad(ch, qs, h, lq + 1, out var r0, out var r1, out var r2, out var r3);
                        isum += Avx512BW.MultiplyAddAdjacent(p0 + r0, s0) + Avx512BW.MultiplyAddAdjacent(p1 + r1, s1)
                              + Avx512BW.MultiplyAddAdjacent(p2 + r2, s2) + Avx512BW.MultiplyAddAdjacent(p3 + r3, s3);
                    }
                }
            var dw = HalfToSingle(Vector256.Load((ushort*)meta));
            var total = Avx512F.ConvertToVector512Single(isum - (off << 5));
            acc = Vector512.FusedMultiplyAdd(dw, total * Vector512.Create(da[s]), acc);
        }
        acc.Store(y);
    }

    /// <summary>
    /// Elements 128h + 32k + 4·lq .. + 3 (k = 0..3) of all 16 rows against the activations: products in int16 pairs.
    /// The three chunks at 3·(8h + lq): ql bytes 64h + 4lq (k = 0, 2: low, high nibbles), ql 64h + 32 + 4lq (k = 1, 3),
    /// qh 32h + 4lq (bit pair k).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(byte* ch, sbyte* qs, int h, int lq,
        out Vector512<short> p0, out Vector512<short> p1, out Vector512<short> p2, out Vector512<short> p3)
    {
        var m4 = Vector512.Create((byte)0x0F);
        var m30 = Vector512.Create((byte)0x30);
        byte* c = ch + 192 * (8 * h + lq);
        Sse.Prefetch0(c + Ahead);
        Sse.Prefetch0(c + Ahead + 64);
        Sse.Prefetch0(c + Ahead + 128);
        var lo = Vector512.Load(c);
        var hi = Vector512.Load(c + 64);
        var qh = Vector512.Load(c + 128).AsUInt16();
        var v0 = (lo & m4) | (Vector512.ShiftLeft(qh, 4).AsByte() & m30);
        var v1 = (hi & m4) | (Vector512.ShiftLeft(qh, 2).AsByte() & m30);
        var v2 = (Vector512.ShiftRightLogical(lo.AsUInt16(), 4).AsByte() & m4) | (qh.AsByte() & m30);
        var v3 = (Vector512.ShiftRightLogical(hi.AsUInt16(), 4).AsByte() & m4) | (Vector512.ShiftRightLogical(qh, 2).AsByte() & m30);
        sbyte* a = qs + 128 * h + 4 * lq;
        p0 = Avx512BW.MultiplyAddAdjacent(v0, Vector512.Create(*(int*)a).AsSByte());
        p1 = Avx512BW.MultiplyAddAdjacent(v1, Vector512.Create(*(int*)(a + 32)).AsSByte());
        p2 = Avx512BW.MultiplyAddAdjacent(v2, Vector512.Create(*(int*)(a + 64)).AsSByte());
        p3 = Avx512BW.MultiplyAddAdjacent(v3, Vector512.Create(*(int*)(a + 96)).AsSByte());
    }

    /// <summary>16 int8 scales (one per row) as int16 pairs: both halves of lane i hold row i's scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Spread(byte* scales)
    {
        var x = Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)scales));
        return ((x & Vector512.Create(0xFFFF)) | (x << 16)).AsInt16();
    }
}
