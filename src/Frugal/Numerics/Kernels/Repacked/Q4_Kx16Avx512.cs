using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW kernel over <see cref="Q4_Kx16"/> groups: 16 weight rows against TC (up to 4) Q8_K activation rows, one
/// lane per row. Per super-block, the 6-bit scales and mins of all 16 rows come out of three 64-byte loads with ggml's
/// get_scale_min_k4 masks applied lane-wise. Per pair of sub-blocks (64 elements): eight 64-byte nibble loads, split
/// once into 16 vectors for all columns; per column 8 vpmaddubsw against 4-byte activation broadcasts summed in int16
/// per sub-block (|sum| ≤ 16·15·127 = 30480: no saturation), then vpmaddwd with row i's scale in both halves of lane i:
/// Σ_j sc_j·Σ u·q in exact int32, as ggml's ggml_vec_dot_q4_K_q8_K. The mins also stay integer: Σ_j mn_j·bsum_j (the
/// activation's 32-element sums) by 4 vpmaddwd. Then per super-block in f32: acc += da·(d·Σ sc·Σ u·q − dmin·Σ mn·bsum).
/// AVX-512 VNNI would fold the int16 sums, but .NET 10 exposes its vpdpbusd at 256 bits only (see <see cref="Q8_0x16Avx512"/>).
/// </summary>
internal static unsafe class Q4_Kx16Avx512
{
    /// <summary>Widest column tile: 16 nibble vectors and four int32 sums stay in the 32 zmm registers.</summary>
    public const int MaxCols = 4;

    /// <summary>
    /// Software prefetch distance, 4 units (9 KB): the hardware prefetcher alone streamed these units at half the rate
    /// of the Q4_0x16 ones from DRAM (bench repack-probe 4096 groups, one thread: 13-15 against 19-28 GB/s); with it
    /// 29-32 GB/s (1 unit ahead: 15-23, 2: 20-28, 8: no better than 4). Past a group's end it touches the next group
    /// or nothing (a prefetch never faults).
    /// </summary>
    private const int Ahead = 4 * Q4_Kx16.UnitBytes;

    /// <summary>
    /// <paramref name="group"/>: one repacked group of <paramref name="nsb"/> super-blocks; activation rows col .. col +
    /// TC - 1 of <paramref name="a"/> (Q8_K form); results of column c go to y[c · yStride .. + 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nsb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the Q4_Kx16 kernel serves at most 4 columns");
        sbyte* q = a.QsRow(col);
        float* da = a.ScaleRow(col);
        short* bsums = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bs = a.SumStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        // vpshufb indices, built once (the JIT rebuilt each from its 16-byte constant inside the loop).
        Vector512<byte> p0 = Pick(0, 0), p1 = Pick(1, 1), p2 = Pick(2, 2), p3 = Pick(3, 3), p01 = Pick(0, 1), p23 = Pick(2, 3);
        for (int s = 0; s < nsb; s++)
        {
            byte* unit = group + (nint)s * Q4_Kx16.UnitBytes;
            Sse.Prefetch0(unit + Ahead); // the 4 metadata lines here, the 32 nibble lines in Pair
            Sse.Prefetch0(unit + Ahead + 64);
            Sse.Prefetch0(unit + Ahead + 128);
            Sse.Prefetch0(unit + Ahead + 192);
            var w0 = Vector512.Load((uint*)unit);
            var a0 = Vector512.Load((uint*)(unit + 64));
            var a1 = Vector512.Load((uint*)(unit + 128));
            var a2 = Vector512.Load((uint*)(unit + 192));
            // get_scale_min_k4 on 16 rows at once: bytes of sc0 / sc1 = scales of sub-blocks 0..3 / 4..7, mn0 / mn1 the mins.
            var k1 = Vector512.Create(0x3F3F3F3Fu);
            var k2 = Vector512.Create(0x0F0F0F0Fu);
            var k3 = Vector512.Create(0x03030303u);
            var sc0 = (a0 & k1).AsByte();
            var sc1 = ((a2 & k2) | (((a0 >> 6) & k3) << 4)).AsByte();
            var mn0 = (a1 & k1).AsByte();
            var mn1 = (((a2 >> 4) & k2) | (((a1 >> 6) & k3) << 4)).AsByte();
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            byte* w = unit + 256;
            nint qo = (nint)s * 256;
            Pair<TC>(w, q + qo, qs, Spread(sc0, p0), Spread(sc0, p1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 512, q + qo + 64, qs, Spread(sc0, p2), Spread(sc0, p3), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1024, q + qo + 128, qs, Spread(sc1, p0), Spread(sc1, p1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1536, q + qo + 192, qs, Spread(sc1, p2), Spread(sc1, p3), ref i0, ref i1, ref i2, ref i3);
            var d = HalfToSingle(w0 & Vector512.Create(0xFFFFu));
            var dmin = HalfToSingle(w0 >> 16);
            // Mins as int16 pairs (mn_2m, mn_2m+1) per lane, against (B_2m, B_2m+1) where B_j = Σ of sub-block j's activations.
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
    /// Sub-blocks 2j and 2j + 1 (the 8 chunks at <paramref name="w"/>: qs bytes 32j .. 32j + 31, low nibbles 2j, high
    /// 2j + 1) against each column's 64 activations at <paramref name="q"/>, scaled per row and added to its int32 sum.
    /// Chunk by chunk, so only the int16 sums stay live (with all 16 nibble vectors held, the JIT spilled half of them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TC>(byte* w, sbyte* q, nint qs, Vector512<short> scLo, Vector512<short> scHi,
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3) where TC : struct, ICols
    {
        int n = TC.Count;
        var m = Vector512.Create((byte)0x0F);
        Vector512<short> l0 = default, h0 = default, l1 = default, h1 = default;
        Vector512<short> l2 = default, h2 = default, l3 = default, h3 = default;
        for (int t = 0; t < 8; t++)
        {
            Sse.Prefetch0(w + 64 * t + Ahead);
            var v = Vector512.Load(w + 64 * t);
            var lo = v & m;
            var hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m;
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

    /// <summary>Σ_j mn_j·B_j for one column, B_j = bsum[2j] + bsum[2j + 1] (|B_j| ≤ 32·127 fits int16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<int> Mins(Vector512<short> m01, Vector512<short> m23, Vector512<short> m45, Vector512<short> m67, short* b) =>
        (Avx512BW.MultiplyAddAdjacent(m01, Sums(b)) + Avx512BW.MultiplyAddAdjacent(m23, Sums(b + 4)))
        + (Avx512BW.MultiplyAddAdjacent(m45, Sums(b + 8)) + Avx512BW.MultiplyAddAdjacent(m67, Sums(b + 12)));

    /// <summary>(b0 + b1, b2 + b3) as an int16 pair in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<short> Sums(short* b) => Vector512.Create((ushort)(b[0] + b[1]) | (b[2] + b[3]) << 16).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Column(Vector512<float> acc, Vector512<int> isum, Vector512<int> msum,
        Vector512<float> d, Vector512<float> dmin, float da)
    {
        var t = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), d, -(Avx512F.ConvertToVector512Single(msum) * dmin));
        return Vector512.FusedMultiplyAdd(t, Vector512.Create(da), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<sbyte> Broadcast(sbyte* q) => Vector512.Create(*(int*)q).AsSByte();

    /// <summary>Byte k of each lane in both int16 halves of the lane (<paramref name="pick"/> = Pick(k, k)): row i's
    /// scale of one sub-block, ready for vpmaddwd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<short> Spread(Vector512<byte> v, Vector512<byte> pick) => Avx512BW.Shuffle(v, pick).AsInt16();

    /// <summary>vpshufb index: lane bytes k0 and k1, each zero-extended to an int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<byte> Pick(int k0, int k1) => Vector512.Create(Vector128.Create(
        (byte)k0, 0x80, (byte)k1, 0x80, (byte)(4 + k0), 0x80, (byte)(4 + k1), 0x80,
        (byte)(8 + k0), 0x80, (byte)(8 + k1), 0x80, (byte)(12 + k0), 0x80, (byte)(12 + k1), 0x80));
}
