using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.Q4_Kx16Avx512;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW kernel over <see cref="Q5_Kx16"/> groups: 16 weight rows against TC (up to 4) Q8_K activation rows, one
/// lane per row; <see cref="Q4_Kx16Avx512"/>'s kernel with the fifth bit put back. Scales, mins and the f32 step are
/// Q4_K's (the same 12 bytes, the same Σ_j mn_j·bsum_j), shared from there. Per chunk (4 elements of each row, for one
/// sub-block pair) the nibbles get bit 4 from the qh word of the same 4 elements (bit 2j for the low nibbles, 2j + 1
/// for the high), unpacked once for all columns; then vpmaddubsw against 4-byte activation broadcasts. The 5-bit values
/// reach 31 and Q8_K quants −128, so a pair is at most 2·31·128 = 7936 and four chunks are summed in int16 (31744, no
/// saturation) before each vpmaddwd with the row's scale: Σ_j sc_j·Σ u·q in exact int32, as ggml's
/// ggml_vec_dot_q5_K_q8_K. Twice Q4_K's vpmaddwd per sub-block (Q4_K sums 8 chunks), the vpmaddubsw count the same.
/// </summary>
internal static unsafe class Q5_Kx16Avx512
{
    /// <summary>Widest column tile: as <see cref="Q4_Kx16Avx512.MaxCols"/> (the int16 sums, int32 sums and f32 sums of 4 columns).</summary>
    public const int MaxCols = 4;

    /// <summary>Software prefetch distance, 4 units (11 KB), as for <see cref="Q4_Kx16Avx512"/>.</summary>
    private const int Ahead = 4 * Q5_Kx16.UnitBytes;

    /// <summary>
    /// <paramref name="group"/>: one repacked group of <paramref name="nsb"/> super-blocks; activation rows col .. col +
    /// TC - 1 of <paramref name="a"/> (Q8_K form); results of column c go to y[c · yStride .. + 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nsb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the Q5_Kx16 kernel serves at most 4 columns");
        sbyte* q = a.QsRow(col);
        float* da = a.ScaleRow(col);
        short* bsums = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bs = a.SumStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<byte> p0 = Pick(0, 0), p1 = Pick(1, 1), p2 = Pick(2, 2), p3 = Pick(3, 3), p01 = Pick(0, 1), p23 = Pick(2, 3);
        for (int s = 0; s < nsb; s++)
        {
            byte* unit = group + (nint)s * Q5_Kx16.UnitBytes;
            for (int l = 0; l < Q5_Kx16.Nibbles; l += 64)
                Sse.Prefetch0(unit + Ahead + l); // the 12 metadata and qh lines here, the 32 nibble lines in Pair
            var w0 = Vector512.Load((uint*)unit);
            var a0 = Vector512.Load((uint*)(unit + 64));
            var a1 = Vector512.Load((uint*)(unit + 128));
            var a2 = Vector512.Load((uint*)(unit + 192));
            var k1 = Vector512.Create(0x3F3F3F3Fu);
            var k2 = Vector512.Create(0x0F0F0F0Fu);
            var k3 = Vector512.Create(0x03030303u);
            var sc0 = (a0 & k1).AsByte();
            var sc1 = ((a2 & k2) | (((a0 >> 6) & k3) << 4)).AsByte();
            var mn0 = (a1 & k1).AsByte();
            var mn1 = (((a2 >> 4) & k2) | (((a1 >> 6) & k3) << 4)).AsByte();
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            byte* w = unit + Q5_Kx16.Nibbles, h = unit + Q5_Kx16.HighBits;
            nint qo = (nint)s * 256;
            Pair<TC>(w, h, 0, q + qo, qs, Spread(sc0, p0), Spread(sc0, p1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 512, h, 1, q + qo + 64, qs, Spread(sc0, p2), Spread(sc0, p3), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1024, h, 2, q + qo + 128, qs, Spread(sc1, p0), Spread(sc1, p1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1536, h, 3, q + qo + 192, qs, Spread(sc1, p2), Spread(sc1, p3), ref i0, ref i1, ref i2, ref i3);
            var d = HalfToSingle(w0 & Vector512.Create(0xFFFFu));
            var dmin = HalfToSingle(w0 >> 16);
            var m01 = Avx512BW.Shuffle(mn0, p01).AsInt16();
            var m23 = Avx512BW.Shuffle(mn0, p23).AsInt16();
            var m45 = Avx512BW.Shuffle(mn1, p01).AsInt16();
            var m67 = Avx512BW.Shuffle(mn1, p23).AsInt16();
            short* b = bsums + s * 16;
            acc0 = Column(acc0, i0, Mins(m01, m23, m45, m67, b), d, dmin, da[s]);
            if (n > 1) acc1 = Column(acc1, i1, Mins(m01, m23, m45, m67, b + bs), d, dmin, da[ss + s]);
            if (n > 2) acc2 = Column(acc2, i2, Mins(m01, m23, m45, m67, b + 2 * bs), d, dmin, da[2 * ss + s]);
            if (n > 3) acc3 = Column(acc3, i3, Mins(m01, m23, m45, m67, b + 3 * bs), d, dmin, da[3 * ss + s]);
        }
        acc0.Store(y);
        if (n > 1) acc1.Store(y + yStride);
        if (n > 2) acc2.Store(y + 2 * yStride);
        if (n > 3) acc3.Store(y + 3 * yStride);
    }

    /// <summary>
    /// Sub-blocks 2j and 2j + 1 (the 8 chunks at <paramref name="w"/>, their fifth bits in the 8 qh words at
    /// <paramref name="h"/>) against each column's 64 activations at <paramref name="q"/>, scaled per row and added to
    /// its int32 sum, in two halves of 4 chunks (the int16 sums hold 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TC>(byte* w, byte* h, int j, sbyte* q, nint qs, Vector512<short> scLo, Vector512<short> scHi,
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3) where TC : struct, ICols
    {
        int n = TC.Count;
        var m = Vector512.Create((byte)0x0F);
        var bit4 = Vector512.Create((byte)0x10);
        for (int half = 0; half < 2; half++)
        {
            Vector512<short> l0 = default, h0 = default, l1 = default, h1 = default;
            Vector512<short> l2 = default, h2 = default, l3 = default, h3 = default;
            for (int t = 4 * half; t < 4 * half + 4; t++)
            {
                Sse.Prefetch0(w + 64 * t + Ahead);
                var v = Vector512.Load(w + 64 * t);
                var hb = Vector512.Load((uint*)(h + 64 * t));
                var lo = (v & m) | (ToBit4(hb, 2 * j).AsByte() & bit4);
                var hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m) | (ToBit4(hb, 2 * j + 1).AsByte() & bit4);
                sbyte* a = q + 4 * t;
                l0 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(a));
                h0 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast(a + 32));
                if (n > 1)
                {
                    l1 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(a + qs));
                    h1 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast(a + qs + 32));
                }
                if (n > 2)
                {
                    l2 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(a + 2 * qs));
                    h2 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast(a + 2 * qs + 32));
                }
                if (n > 3)
                {
                    l3 += Avx512BW.MultiplyAddAdjacent(lo, Broadcast(a + 3 * qs));
                    h3 += Avx512BW.MultiplyAddAdjacent(hi, Broadcast(a + 3 * qs + 32));
                }
            }
            i0 += Avx512BW.MultiplyAddAdjacent(l0, scLo) + Avx512BW.MultiplyAddAdjacent(h0, scHi);
            if (n > 1) i1 += Avx512BW.MultiplyAddAdjacent(l1, scLo) + Avx512BW.MultiplyAddAdjacent(h1, scHi);
            if (n > 2) i2 += Avx512BW.MultiplyAddAdjacent(l2, scLo) + Avx512BW.MultiplyAddAdjacent(h2, scHi);
            if (n > 3) i3 += Avx512BW.MultiplyAddAdjacent(l3, scLo) + Avx512BW.MultiplyAddAdjacent(h3, scHi);
        }
    }

    /// <summary>
    /// Bit <paramref name="bit"/> (0..7) of every byte moved to bit 4 of the same byte; the other bits are left as the
    /// shift leaves them (the caller masks with 0x10). A shift of the 32-bit lanes by at most 4 moves bit 4 of a byte
    /// from within that byte, so no neighbour leaks in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> ToBit4(Vector512<uint> h, int bit) => bit <= 4 ? h << (4 - bit) : h >> (bit - 4);
}

/// <summary>Q5_K rows in <see cref="Q5_Kx16"/> groups, multiplied by <see cref="Q5_Kx16Avx512"/>.</summary>
internal readonly unsafe struct Q5_Kx16Kernel : IPackedKernel
{
    public static bool IsSupported => true;

    public static bool UnsignedActivations => false;

    public static int MaxCols => Q5_Kx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q5_Kx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q5_Kx16Avx512.Dot<TC>(group, cols / 256, a, col, y, yStride);
}
