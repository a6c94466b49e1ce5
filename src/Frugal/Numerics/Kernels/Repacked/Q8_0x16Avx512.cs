using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Kernel over <see cref="Q8_0x16"/> groups: 16 weight rows against TC (up to 4) Q8_0 activation rows given as
/// unsigned bytes q + 128 (<see cref="Q8_0x16.OffsetActivations"/>). Per block and column: 8 four-byte activation
/// broadcasts, each dotted with a chunk of the 16 rows by two 256-bit vpdpbusd (rows 0..7 and 8..15; .NET 10 exposes
/// VNNI at 256 bits only), an exact int32 sum Σw·(q + 128) from which 128·Σw (stored with the block) is taken, then in
/// f32 acc += f · (dw · da), one lane per row. Four columns keep the VEX-encoded dot's operands in ymm0..15.
/// </summary>
internal static unsafe class Q8_0x16Avx512
{
    public const int MaxCols = 4;

    /// <summary>
    /// <paramref name="group"/>: one repacked group of <paramref name="nb"/> blocks; <paramref name="u"/>: column
    /// <paramref name="col"/>'s offset quants (stride <paramref name="uStride"/>), <paramref name="a"/> the same rows'
    /// Q8_0 scales; results of column c go to y[c · yStride .. + 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nb, byte* u, nint uStride, in QuantizedRows a, int col, float* y, nint yStride)
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the Q8_0x16 kernel serves at most 4 columns");
        byte* q = u + col * uStride;
        float* s = a.ScaleRow(col);
        nint ss = a.ScaleStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* unit = group + (nint)b * Q8_0x16.UnitBytes;
            if (n > 2)
            {
                byte* ahead = unit + 4 * Q8_0x16.UnitBytes;
                for (int l = 0; l < 9; l++)
                    Sse.Prefetch0(ahead + 64 * l);
            }
            var dw = HalfToSingle(Vector256.Load((ushort*)unit));
            var corr = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)(unit + 32))) << 7;
            byte* w = unit + 64;
            byte* qb = q + (nint)b * 32;
            // Two int32 chains per half and column (even and odd chunks) when the registers allow: half as deep.
            Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default;
            Vector256<int> i2l = default, i2h = default, i3l = default, i3h = default;
            Vector256<int> e0l = default, e0h = default, e1l = default, e1h = default;
            Chunks<TC>(w, qb, uStride, 0, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
            if (n <= 2)
            {
                Chunks<TC>(w, qb, uStride, 1, ref e0l, ref e0h, ref e1l, ref e1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 2, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 3, ref e0l, ref e0h, ref e1l, ref e1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 4, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 5, ref e0l, ref e0h, ref e1l, ref e1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 6, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 7, ref e0l, ref e0h, ref e1l, ref e1h, ref i2l, ref i2h, ref i3l, ref i3h);
                i0l += e0l; i0h += e0h; i1l += e1l; i1h += e1h;
            }
            else
            {
                Chunks<TC>(w, qb, uStride, 1, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 2, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 3, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 4, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 5, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 6, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
                Chunks<TC>(w, qb, uStride, 7, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
            }
            nint so = (b >> 1) * 4 + (b & 1);
            acc0 = Column(acc0, i0l, i0h, corr, dw, s[so]);
            if (n > 1) acc1 = Column(acc1, i1l, i1h, corr, dw, s[ss + so]);
            if (n > 2) acc2 = Column(acc2, i2l, i2h, corr, dw, s[2 * ss + so]);
            if (n > 3) acc3 = Column(acc3, i3l, i3h, corr, dw, s[3 * ss + so]);
        }
        acc0.Store(y);
        if (n > 1) acc1.Store(y + yStride);
        if (n > 2) acc2.Store(y + 2 * yStride);
        if (n > 3) acc3.Store(y + 3 * yStride);
    }

    /// <summary>Chunk <paramref name="c"/> (4 quants of each of the 16 rows) against each column's 4 activation bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunks<TC>(byte* w, byte* q, nint uStride, int c,
        ref Vector256<int> i0l, ref Vector256<int> i0h, ref Vector256<int> i1l, ref Vector256<int> i1h,
        ref Vector256<int> i2l, ref Vector256<int> i2h, ref Vector256<int> i3l, ref Vector256<int> i3h) where TC : struct, ICols
    {
        int n = TC.Count;
        var wl = Vector256.Load(w + 64 * c).AsSByte();
        var wh = Vector256.Load(w + 64 * c + 32).AsSByte();
        var a0 = Vector256.Create(*(int*)(q + 4 * c)).AsByte();
        i0l = AvxVnni.MultiplyWideningAndAdd(i0l, a0, wl);
        i0h = AvxVnni.MultiplyWideningAndAdd(i0h, a0, wh);
        if (n > 1)
        {
            var a1 = Vector256.Create(*(int*)(q + uStride + 4 * c)).AsByte();
            i1l = AvxVnni.MultiplyWideningAndAdd(i1l, a1, wl);
            i1h = AvxVnni.MultiplyWideningAndAdd(i1h, a1, wh);
        }
        if (n > 2)
        {
            var a2 = Vector256.Create(*(int*)(q + 2 * uStride + 4 * c)).AsByte();
            i2l = AvxVnni.MultiplyWideningAndAdd(i2l, a2, wl);
            i2h = AvxVnni.MultiplyWideningAndAdd(i2h, a2, wh);
        }
        if (n > 3)
        {
            var a3 = Vector256.Create(*(int*)(q + 3 * uStride + 4 * c)).AsByte();
            i3l = AvxVnni.MultiplyWideningAndAdd(i3l, a3, wl);
            i3h = AvxVnni.MultiplyWideningAndAdd(i3h, a3, wh);
        }
    }

    /// <summary>acc + (Σw·(q + 128) − 128·Σw) · (dw · da), lanes = rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column(Vector512<float> acc, Vector256<int> lo, Vector256<int> hi, Vector512<int> corr,
        Vector512<float> dw, float da)
    {
        var f = Avx512F.ConvertToVector512Single(Vector512.Create(lo, hi) - corr);
        return Vector512.FusedMultiplyAdd(f, dw * Vector512.Create(da), acc);
    }
}
