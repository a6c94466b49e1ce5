using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW kernel over <see cref="Q4_0x16"/> groups: 16 weight rows against TC (up to 8) Q8_0 activation rows.
/// Per block: four 64-byte loads split into 8 nibble vectors (lane i = row i, 4 elements each), unpacked once for all
/// columns; per column 8 four-byte activation broadcasts, 8 vpmaddubsw summed in int16 (|sum| ≤ 8·2·15·127 = 30480,
/// no saturation: the integer dot is exact), one vpmaddwd to int32, and in f32
/// acc += dw · (da · Σu·q − 8 · da · Σq), one lane per row. The 16 fp16 scales of a block convert in one vector.
/// </summary>
internal static unsafe class Q4_0x16Avx512
{
    /// <summary>
    /// <paramref name="group"/>: one repacked group of <paramref name="nb"/> blocks; activation rows col .. col + TC - 1
    /// of <paramref name="a"/> (Q8_0 form with pre-scaled offset sums, <see cref="Block32Avx512.PreScale"/>);
    /// results of column c go to y[c · yStride .. + 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX-512 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* unit = group + (nint)(b >> 1) * Q4_0x16.PairBytes;
            int h = b & 1;
            if (n > 2)
            {
                // Several columns make each block slow enough that the loads stop running ahead of the arithmetic:
                // fetch the half unit four pairs on (past the group's end it only touches the next group or stops).
                byte* ahead = unit + 4 * Q4_0x16.PairBytes + h * 320;
                Sse.Prefetch0(ahead);
                Sse.Prefetch0(ahead + 64);
                Sse.Prefetch0(ahead + 128);
                Sse.Prefetch0(ahead + 192);
                Sse.Prefetch0(ahead + 256);
            }
            var dw = HalfToSingle(Vector256.Load((ushort*)(unit + h * 32)));
            byte* w = unit + 64 + h * 256;
            var mask = Vector512.Create((byte)0x0F);
            var v0 = Vector512.Load(w);
            var v1 = Vector512.Load(w + 64);
            var v2 = Vector512.Load(w + 128);
            var v3 = Vector512.Load(w + 192);
            var l0 = v0 & mask; var h0 = Vector512.ShiftRightLogical(v0.AsUInt16(), 4).AsByte() & mask;
            var l1 = v1 & mask; var h1 = Vector512.ShiftRightLogical(v1.AsUInt16(), 4).AsByte() & mask;
            var l2 = v2 & mask; var h2 = Vector512.ShiftRightLogical(v2.AsUInt16(), 4).AsByte() & mask;
            var l3 = v3 & mask; var h3 = Vector512.ShiftRightLogical(v3.AsUInt16(), 4).AsByte() & mask;
            nint qo = b * 32, so = (b >> 1) * 4 + h;
            acc0 = Column(acc0, q + qo, s + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 1) acc1 = Column(acc1, q + qs + qo, s + ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 2) acc2 = Column(acc2, q + 2 * qs + qo, s + 2 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 3) acc3 = Column(acc3, q + 3 * qs + qo, s + 3 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 4) acc4 = Column(acc4, q + 4 * qs + qo, s + 4 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 5) acc5 = Column(acc5, q + 5 * qs + qo, s + 5 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 6) acc6 = Column(acc6, q + 6 * qs + qo, s + 6 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
            if (n > 7) acc7 = Column(acc7, q + 7 * qs + qo, s + 7 * ss + so, dw, l0, l1, l2, l3, h0, h1, h2, h3);
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

    /// <summary>
    /// One activation block (32 int8 at <paramref name="q"/>; <paramref name="s"/>[0] = da, s[2] = −da·Σq as pre-scaled)
    /// against the block's 16 rows. Low-nibble chunk c holds elements 4c..4c+3, high-nibble chunk c 16+4c..16+4c+3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column(Vector512<float> acc, sbyte* q, float* s, Vector512<float> dw,
        Vector512<byte> l0, Vector512<byte> l1, Vector512<byte> l2, Vector512<byte> l3,
        Vector512<byte> h0, Vector512<byte> h1, Vector512<byte> h2, Vector512<byte> h3)
    {
        var p = Avx512BW.MultiplyAddAdjacent(l0, Vector512.Create(*(int*)q).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(h0, Vector512.Create(*(int*)(q + 16)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(l1, Vector512.Create(*(int*)(q + 4)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(h1, Vector512.Create(*(int*)(q + 20)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(l2, Vector512.Create(*(int*)(q + 8)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(h2, Vector512.Create(*(int*)(q + 24)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(l3, Vector512.Create(*(int*)(q + 12)).AsSByte())
              + Avx512BW.MultiplyAddAdjacent(h3, Vector512.Create(*(int*)(q + 28)).AsSByte());
        var f = Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(p, Vector512.Create((short)1)));
        // s[2] is Offset·da·Σq/8 = −da·Σq (MatMulJob pre-scales Q4_0 on this path); the offset term is 8× that.
        return Vector512.FusedMultiplyAdd(dw, Vector512.FusedMultiplyAdd(f, Vector512.Create(s[0]), Vector512.Create(s[2] * 8)), acc);
    }
}
