using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// F16 weights repacked at load into 16-row groups, element-major: for each column k of the matrix, the 16 rows'
/// fp16 values side by side (32 bytes; lane i = row i). One fp16 load widens to a Vector512 of all 16 rows at k, so
/// an activation value broadcast and one FMA advance 16 dot products at once and the 16 results land in the lanes
/// of one accumulator, stored to y as they are: no horizontal sums, which made row-by-row F16 dots slow on small
/// matrices (a 128-wide row is 8 FMAs, then a 16-lane reduction). The bytes are the file's, moved; the copy is the
/// size of the rows it covers. Rows past the last whole group stay in the original layout.
/// <para>
/// Every output is Σ_k w·x accumulated in k order by one FMA chain, whatever the number of columns served at once
/// (decode or prefill), so batch invariance holds.
/// </para>
/// </summary>
internal static unsafe class F16x16
{
    public const int Rows = RowInterleave.Rows;

    /// <summary>Most activation rows one call serves (8 accumulators plus the weight vector stay in registers).</summary>
    public const int MaxCols = ColTile.MaxWide;

    public static long GroupBytes(int cols) => (long)cols * Rows * 2;

    /// <summary>Bytes of the repacked copy of a [rows, cols] F16 matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols);

    /// <summary>Repacks the whole groups of [rows, rowBytes] fp16 rows at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst)
    {
        for (int g = 0; g < rows / Rows; g++)
        {
            ushort* d = (ushort*)(dst + g * GroupBytes(cols));
            byte* s = src + (long)g * Rows * rowBytes;
            for (int i = 0; i < Rows; i++)
            {
                ushort* row = (ushort*)(s + i * rowBytes);
                for (int k = 0; k < cols; k++)
                    d[k * Rows + i] = row[k];
            }
        }
    }

    /// <summary>
    /// Widens one group to f32 ([cols][16], the same order) into <paramref name="dst"/>: a prefill serves each group
    /// to many column tiles, and converting once beats converting per tile.
    /// </summary>
    public static void Widen(byte* group, int cols, float* dst)
    {
        for (int k = 0; k < cols; k++)
            HalfToSingle(Vector256.Load((ushort*)group + k * Rows)).Store(dst + k * Rows);
    }

    /// <summary>
    /// Columns col .. col + TC − 1 of <paramref name="x"/> ([n, cols], stride <paramref name="xStride"/>) against one
    /// group, given as fp16 (<paramref name="half"/> not null) or already widened (<paramref name="wide"/>); results
    /// of column c go to y[c · yStride .. + 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(ushort* half, float* wide, int cols, float* x, nint xStride, int col, float* y, nint yStride)
        where TC : struct, ICols
    {
        if (half != null) Dot<TC, HalfGroup>(half, cols, x, xStride, col, y, yStride);
        else Dot<TC, WideGroup>(wide, cols, x, xStride, col, y, yStride);
    }

    private interface IGroup
    {
        static abstract Vector512<float> Load(void* group, int k);
    }

    private readonly struct HalfGroup : IGroup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(void* group, int k) => HalfToSingle(Vector256.Load((ushort*)group + k * Rows));
    }

    private readonly struct WideGroup : IGroup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(void* group, int k) => Vector512.Load((float*)group + k * Rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot<TC, TG>(void* group, int cols, float* x, nint xStride, int col, float* y, nint yStride)
        where TC : struct, ICols where TG : struct, IGroup
    {
        int n = TC.Count;
        float* x0 = x + col * xStride;
        float* x1 = n > 1 ? x0 + xStride : x0, x2 = n > 2 ? x0 + 2 * xStride : x0, x3 = n > 3 ? x0 + 3 * xStride : x0;
        float* x4 = n > 4 ? x0 + 4 * xStride : x0, x5 = n > 5 ? x0 + 5 * xStride : x0;
        float* x6 = n > 6 ? x0 + 6 * xStride : x0, x7 = n > 7 ? x0 + 7 * xStride : x0;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> a4 = default, a5 = default, a6 = default, a7 = default;
        for (int k = 0; k < cols; k++)
        {
            var w = TG.Load(group, k);
            a0 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x0[k]), a0);
            if (n > 1) a1 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x1[k]), a1);
            if (n > 2) a2 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x2[k]), a2);
            if (n > 3) a3 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x3[k]), a3);
            if (n > 4) a4 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x4[k]), a4);
            if (n > 5) a5 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x5[k]), a5);
            if (n > 6) a6 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x6[k]), a6);
            if (n > 7) a7 = Avx512F.FusedMultiplyAdd(w, Vector512.Create(x7[k]), a7);
        }
        a0.Store(y);
        if (n > 1) a1.Store(y + yStride);
        if (n > 2) a2.Store(y + 2 * yStride);
        if (n > 3) a3.Store(y + 3 * yStride);
        if (n > 4) a4.Store(y + 4 * yStride);
        if (n > 5) a5.Store(y + 5 * yStride);
        if (n > 6) a6.Store(y + 6 * yStride);
        if (n > 7) a7.Store(y + 7 * yStride);
    }

    /// <summary>
    /// Decode's shape (one or two columns): four consecutive groups at once, so four independent FMA chains hide the
    /// FMA latency that one group's single chain per column would wait on. Each output's arithmetic is the same
    /// chain as <see cref="Dot{TC}"/>'s, so a row's result does not depend on which of the two computed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotFourGroups<TC>(ushort* half, long groupBytes, int cols, float* x, nint xStride, int col, float* y, nint yStride)
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > 2) throw new ArgumentOutOfRangeException(nameof(TC), "four groups at once serve at most 2 columns");
        float* x0 = x + col * xStride, x1 = n > 1 ? x0 + xStride : x0;
        nint g = (nint)(groupBytes / 2);
        ushort* h0 = half, h1 = half + g, h2 = half + 2 * g, h3 = half + 3 * g;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < cols; k++)
        {
            nint o = k * Rows;
            var w0 = HalfToSingle(Vector256.Load(h0 + o));
            var w1 = HalfToSingle(Vector256.Load(h1 + o));
            var w2 = HalfToSingle(Vector256.Load(h2 + o));
            var w3 = HalfToSingle(Vector256.Load(h3 + o));
            var v = Vector512.Create(x0[k]);
            a0 = Avx512F.FusedMultiplyAdd(w0, v, a0);
            a1 = Avx512F.FusedMultiplyAdd(w1, v, a1);
            a2 = Avx512F.FusedMultiplyAdd(w2, v, a2);
            a3 = Avx512F.FusedMultiplyAdd(w3, v, a3);
            if (n > 1)
            {
                var u = Vector512.Create(x1[k]);
                b0 = Avx512F.FusedMultiplyAdd(w0, u, b0);
                b1 = Avx512F.FusedMultiplyAdd(w1, u, b1);
                b2 = Avx512F.FusedMultiplyAdd(w2, u, b2);
                b3 = Avx512F.FusedMultiplyAdd(w3, u, b3);
            }
        }
        a0.Store(y);
        a1.Store(y + Rows);
        a2.Store(y + 2 * Rows);
        a3.Store(y + 3 * Rows);
        if (n > 1)
        {
            b0.Store(y + yStride);
            b1.Store(y + yStride + Rows);
            b2.Store(y + yStride + 2 * Rows);
            b3.Store(y + yStride + 3 * Rows);
        }
    }

    // One widened group per thread, grown to the widest matrix seen (16 x cols floats: 8 KB at 128 columns).
    [ThreadStatic] private static float[]? _wide;

    /// <summary>This thread's buffer for one widened group of <paramref name="cols"/> columns.</summary>
    public static float* WideBuffer(int cols)
    {
        if (_wide is null || _wide.Length < cols * Rows)
            _wide = GC.AllocateUninitializedArray<float>(cols * Rows, pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_wide));
    }
}
