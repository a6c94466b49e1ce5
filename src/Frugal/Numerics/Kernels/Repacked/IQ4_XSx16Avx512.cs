using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Kernel over <see cref="IQ4_XSx16"/> groups: 16 weight rows against TC (up to 8) Q8_K activation rows, lane i = row i.
/// Per sub-block of 32 (<see cref="IQ4_NLx16Avx512.Block{TC}"/>; <see cref="IQ4_NLx16Avx512"/> says why 8 columns): eight 32-byte nibble loads
/// looked up (vpermb) into the levels + 128 (1..241), unpacked once for all columns; per column 8 four-byte activation
/// broadcasts dotted by vpdpbusd, exact in int32:
/// S_j = Σ(kv + 128)·q = Σkv·q + 128·B_j, with B_j the activation sum of the sub-block (Q8_K bsums). Then in int32
/// Σ_j (ls_j − 32)·(S_j − 128·B_j), the 6-bit scales of all 16 rows unpacked lane-wise from words 0 and 1, and per
/// super-block in f32 acc += d·da·Σ: ggml's ggml_vec_dot_iq4_xs_q8_K for 16 rows at once.
/// </summary>
internal static unsafe class IQ4_XSx16Avx512
{
    public const int MaxCols = ColTile.MaxWide;

    /// <summary>Software prefetch distance: four units (8.5 KB), as for <see cref="Q4_Kx16Avx512"/>.</summary>
    private const int Ahead = 4 * IQ4_XSx16.UnitBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nsb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the IQ4_XSx16 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* da = a.ScaleRow(col);
        short* bsums = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bs = a.SumStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        byte* table = stackalloc byte[128]; // one copy per chunk, read from memory: see IQ4_NLx16Avx512's Registers
        for (int c = 0; c < 4; c++)
            Vector256.Create(IQ4Levels.OffsetTable()).Store(table + 32 * c);
        for (int s = 0; s < nsb; s++)
        {
            byte* unit = group + (nint)s * IQ4_XSx16.UnitBytes;
            Sse.Prefetch0(unit + Ahead);
            Sse.Prefetch0(unit + Ahead + 64);
            Vector512<int> t0 = default, t1 = default, t2 = default, t3 = default;
            Vector512<int> t4 = default, t5 = default, t6 = default, t7 = default;
            byte* w = unit + 128;
            sbyte* qsb = q + (nint)s * 256;
            short* b = bsums + s * 16;
            for (int j = 0; j < 8; j++)
            {
                byte* wj = w + 256 * j;
                Sse.Prefetch0(wj + Ahead);
                Sse.Prefetch0(wj + Ahead + 64);
                Sse.Prefetch0(wj + Ahead + 128);
                Sse.Prefetch0(wj + Ahead + 192);
                sbyte* qj = qsb + 32 * j;
                IQ4_NLx16Avx512.Block<TC>(wj, qj, qs, table, out var s0, out var s1, out var s2, out var s3, out var s4, out var s5, out var s6, out var s7);
                var w0 = Vector512.Load((uint*)unit);
                var w1 = Vector512.Load((uint*)(unit + 64));
                var sc = ((((w1 >> (4 * j)) & Vector512.Create(0xFu)) | (((w0 >> (16 + 2 * j)) & Vector512.Create(3u)) << 4)).AsInt32())
                         - Vector512.Create(32);
                short* bj = b + 2 * j;
                t0 += Scaled(s0, sc, bj);
                if (n > 1) t1 += Scaled(s1, sc, bj + bs);
                if (n > 2) t2 += Scaled(s2, sc, bj + 2 * bs);
                if (n > 3) t3 += Scaled(s3, sc, bj + 3 * bs);
                if (n > 4) t4 += Scaled(s4, sc, bj + 4 * bs);
                if (n > 5) t5 += Scaled(s5, sc, bj + 5 * bs);
                if (n > 6) t6 += Scaled(s6, sc, bj + 6 * bs);
                if (n > 7) t7 += Scaled(s7, sc, bj + 7 * bs);
            }
            var d = HalfToSingle(Vector512.Load((uint*)unit) & Vector512.Create(0xFFFFu));
            acc0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t0), d * Vector512.Create(da[s]), acc0);
            if (n > 1) acc1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t1), d * Vector512.Create(da[ss + s]), acc1);
            if (n > 2) acc2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t2), d * Vector512.Create(da[2 * ss + s]), acc2);
            if (n > 3) acc3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t3), d * Vector512.Create(da[3 * ss + s]), acc3);
            if (n > 4) acc4 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t4), d * Vector512.Create(da[4 * ss + s]), acc4);
            if (n > 5) acc5 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t5), d * Vector512.Create(da[5 * ss + s]), acc5);
            if (n > 6) acc6 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t6), d * Vector512.Create(da[6 * ss + s]), acc6);
            if (n > 7) acc7 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t7), d * Vector512.Create(da[7 * ss + s]), acc7);
        }
        acc0.Store(y);
        if (n > 1) acc1.Store(y + yStride);
        if (n > 2) acc2.Store(y + 2 * yStride);
        if (n > 3) acc3.Store(y + 3 * yStride);
        if (n > 4) acc4.Store(y + 4 * yStride);
        if (n > 5) acc5.Store(y + 5 * yStride);
        if (n > 6) acc6.Store(y + 6 * yStride);
        if (n > 7) acc7.Store(y + 7 * yStride);
    }

    /// <summary>(ls − 32)·(S − 128·B) per row, B = the two 16-sums of the sub-block's activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Scaled(Vector512<int> sum, Vector512<int> sc, short* b) =>
        (sum - Vector512.Create((b[0] + b[1]) << 7)) * sc;
}

/// <summary>IQ4_XS rows in <see cref="IQ4_XSx16"/> groups, multiplied by <see cref="IQ4_XSx16Avx512"/>.</summary>
internal readonly unsafe struct IQ4_XSx16Kernel : IPackedKernel
{
    public static bool IsSupported => IQ4_NLx16Avx512.IsSupported;

    public static bool UnsignedActivations => false;

    public static int MaxCols => IQ4_XSx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => IQ4_XSx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => IQ4_XSx16Avx512.Dot<TC>(group, cols / 256, a, col, y, yStride);
}
