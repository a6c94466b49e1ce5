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
/// A small model in cache is bound by the arithmetic, not by reading its weights: the kernel serves tiles of up to 4
/// groups x 4 columns, so each converted weight vector feeds every column of the tile and 4-16 independent FMA chains
/// keep the FMA units busy; a decode step's 1 + k verify rows (k drafted tokens) then cost little more per row than
/// the arithmetic they need.
/// </para>
/// <para>
/// Every output is Σ_k w·x accumulated in k order by one FMA chain, whatever the number of columns served at once
/// (decode or prefill), so batch invariance holds.
/// </para>
/// </summary>
internal static unsafe class F16x16
{
    public const int Rows = RowInterleave.Rows;

    /// <summary>Most activation rows one call serves (4 x 4 accumulators plus the weight and activation vectors stay in registers).</summary>
    public const int MaxCols = 4;

    /// <summary>Most groups one call serves.</summary>
    public const int MaxGroups = 4;

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
    /// The scale the activations of the packed kernel carry: <see cref="Bits"/> reads a weight w as the f32 w · 2^-112
    /// (its fp16 sign, exponent and mantissa moved to their f32 places, nothing more), so the activations are
    /// multiplied by 2^112 once per multiply instead of every weight once per use. Both scalings are exact (x is already
    /// rounded to fp16, |x| &lt;= 65504, so x · 2^112 stays a normal f32; fp16 zeros and subnormals map onto f32 zeros and
    /// subnormals), so each product, and every FMA's rounding, is the same as with the widened weight.
    /// </summary>
    public const float ActivationScale = 5.192296858534828e33f; // 2^112

    /// <summary>16 fp16 weights at <paramref name="p"/> (one group's column) as f32 · 2^-112: sign-extended, the sign
    /// copies above bit 31 masked off after the shift (3 instructions; the exact widening took 7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Bits(ushort* p) =>
        (Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)), 13)
            & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle();

    /// <summary>
    /// <typeparamref name="TG"/> consecutive groups (1-4, <paramref name="groupBytes"/> apart) against columns
    /// col .. col + TC − 1 (1-4) of the scaled activations <paramref name="x"/> ([n, cols], stride
    /// <paramref name="xStride"/>, times <see cref="ActivationScale"/>); group g's results for column c go to
    /// y[c · yStride + 16g .. + 16). Up to 16 independent FMA chains hide the FMA latency, and each weight vector,
    /// converted once, serves every column of the tile. Each output is one FMA chain over k in order, whatever the
    /// tile, so a row's result does not depend on the batch it was computed in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TG, TC>(ushort* group, long groupBytes, int cols, float* x, nint xStride, int col, float* y, nint yStride)
        where TG : struct, ICols where TC : struct, ICols
    {
        int groups = TG.Count, n = TC.Count;
        if (groups > 4 || n > 4) throw new ArgumentOutOfRangeException(nameof(TC), "a tile holds at most 4 groups and 4 columns");
        nint gs = (nint)(groupBytes / 2);
        ushort* h0 = group, h1 = groups > 1 ? group + gs : group, h2 = groups > 2 ? group + 2 * gs : group, h3 = groups > 3 ? group + 3 * gs : group;
        float* x0 = x + col * xStride;
        float* x1 = n > 1 ? x0 + xStride : x0, x2 = n > 2 ? x0 + 2 * xStride : x0, x3 = n > 3 ? x0 + 3 * xStride : x0;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default; // a{column}{group}
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int k = 0; k < cols; k++)
        {
            nint o = k * Rows;
            var v0 = Vector512.Create(x0[k]);
            var v1 = n > 1 ? Vector512.Create(x1[k]) : v0;
            var v2 = n > 2 ? Vector512.Create(x2[k]) : v0;
            var v3 = n > 3 ? Vector512.Create(x3[k]) : v0;
            var w = Bits(h0 + o);
            a00 = Avx512F.FusedMultiplyAdd(w, v0, a00);
            if (n > 1) a10 = Avx512F.FusedMultiplyAdd(w, v1, a10);
            if (n > 2) a20 = Avx512F.FusedMultiplyAdd(w, v2, a20);
            if (n > 3) a30 = Avx512F.FusedMultiplyAdd(w, v3, a30);
            if (groups > 1)
            {
                w = Bits(h1 + o);
                a01 = Avx512F.FusedMultiplyAdd(w, v0, a01);
                if (n > 1) a11 = Avx512F.FusedMultiplyAdd(w, v1, a11);
                if (n > 2) a21 = Avx512F.FusedMultiplyAdd(w, v2, a21);
                if (n > 3) a31 = Avx512F.FusedMultiplyAdd(w, v3, a31);
            }
            if (groups > 2)
            {
                w = Bits(h2 + o);
                a02 = Avx512F.FusedMultiplyAdd(w, v0, a02);
                if (n > 1) a12 = Avx512F.FusedMultiplyAdd(w, v1, a12);
                if (n > 2) a22 = Avx512F.FusedMultiplyAdd(w, v2, a22);
                if (n > 3) a32 = Avx512F.FusedMultiplyAdd(w, v3, a32);
            }
            if (groups > 3)
            {
                w = Bits(h3 + o);
                a03 = Avx512F.FusedMultiplyAdd(w, v0, a03);
                if (n > 1) a13 = Avx512F.FusedMultiplyAdd(w, v1, a13);
                if (n > 2) a23 = Avx512F.FusedMultiplyAdd(w, v2, a23);
                if (n > 3) a33 = Avx512F.FusedMultiplyAdd(w, v3, a33);
            }
        }
        Store<TG>(y, a00, a01, a02, a03);
        if (n > 1) Store<TG>(y + yStride, a10, a11, a12, a13);
        if (n > 2) Store<TG>(y + 2 * yStride, a20, a21, a22, a23);
        if (n > 3) Store<TG>(y + 3 * yStride, a30, a31, a32, a33);
    }

    /// <summary>
    /// Two groups (or one) against 5-8 columns: a step of 5-8 rows in one pass, each converted weight vector feeding
    /// every column, where two 4-column tiles would convert it twice and leave a short tile latency-bound. Same
    /// layout, operands and per-output FMA chain as <see cref="Dot{TG, TC}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotWide<TG, TC>(ushort* group, long groupBytes, int cols, float* x, nint xStride, int col, float* y, nint yStride)
        where TG : struct, ICols where TC : struct, ICols
    {
        int groups = TG.Count, n = TC.Count;
        if (groups > 2 || n > 8) throw new ArgumentOutOfRangeException(nameof(TC), "a wide tile holds at most 2 groups and 8 columns");
        ushort* h0 = group, h1 = groups > 1 ? group + (nint)(groupBytes / 2) : group;
        float* x0 = x + col * xStride;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
        for (int k = 0; k < cols; k++)
        {
            nint o = k * Rows;
            var w = Bits(h0 + o);
            var u = groups > 1 ? Bits(h1 + o) : w;
            float* xk = x0 + k;
            var v = Vector512.Create(xk[0]);
            a0 = Avx512F.FusedMultiplyAdd(w, v, a0);
            if (groups > 1) b0 = Avx512F.FusedMultiplyAdd(u, v, b0);
            if (n > 1) { v = Vector512.Create(xk[xStride]); a1 = Avx512F.FusedMultiplyAdd(w, v, a1); if (groups > 1) b1 = Avx512F.FusedMultiplyAdd(u, v, b1); }
            if (n > 2) { v = Vector512.Create(xk[2 * xStride]); a2 = Avx512F.FusedMultiplyAdd(w, v, a2); if (groups > 1) b2 = Avx512F.FusedMultiplyAdd(u, v, b2); }
            if (n > 3) { v = Vector512.Create(xk[3 * xStride]); a3 = Avx512F.FusedMultiplyAdd(w, v, a3); if (groups > 1) b3 = Avx512F.FusedMultiplyAdd(u, v, b3); }
            if (n > 4) { v = Vector512.Create(xk[4 * xStride]); a4 = Avx512F.FusedMultiplyAdd(w, v, a4); if (groups > 1) b4 = Avx512F.FusedMultiplyAdd(u, v, b4); }
            if (n > 5) { v = Vector512.Create(xk[5 * xStride]); a5 = Avx512F.FusedMultiplyAdd(w, v, a5); if (groups > 1) b5 = Avx512F.FusedMultiplyAdd(u, v, b5); }
            if (n > 6) { v = Vector512.Create(xk[6 * xStride]); a6 = Avx512F.FusedMultiplyAdd(w, v, a6); if (groups > 1) b6 = Avx512F.FusedMultiplyAdd(u, v, b6); }
            if (n > 7) { v = Vector512.Create(xk[7 * xStride]); a7 = Avx512F.FusedMultiplyAdd(w, v, a7); if (groups > 1) b7 = Avx512F.FusedMultiplyAdd(u, v, b7); }
        }
        Store<TG>(y, a0, b0, default, default);
        if (n > 1) Store<TG>(y + yStride, a1, b1, default, default);
        if (n > 2) Store<TG>(y + 2 * yStride, a2, b2, default, default);
        if (n > 3) Store<TG>(y + 3 * yStride, a3, b3, default, default);
        if (n > 4) Store<TG>(y + 4 * yStride, a4, b4, default, default);
        if (n > 5) Store<TG>(y + 5 * yStride, a5, b5, default, default);
        if (n > 6) Store<TG>(y + 6 * yStride, a6, b6, default, default);
        if (n > 7) Store<TG>(y + 7 * yStride, a7, b7, default, default);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TG>(float* y, Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3)
        where TG : struct, ICols
    {
        g0.Store(y);
        if (TG.Count > 1) g1.Store(y + Rows);
        if (TG.Count > 2) g2.Store(y + 2 * Rows);
        if (TG.Count > 3) g3.Store(y + 3 * Rows);
    }
}
