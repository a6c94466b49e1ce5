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
        for (int s = 0; s < nsb; s++)
        {
            byte* unit = group + (nint)s * Q4_Kx16.UnitBytes;
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
            Pair<TC>(w, q + qo, qs, Spread(sc0, 0), Spread(sc0, 1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 512, q + qo + 64, qs, Spread(sc0, 2), Spread(sc0, 3), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1024, q + qo + 128, qs, Spread(sc1, 0), Spread(sc1, 1), ref i0, ref i1, ref i2, ref i3);
            Pair<TC>(w + 1536, q + qo + 192, qs, Spread(sc1, 2), Spread(sc1, 3), ref i0, ref i1, ref i2, ref i3);
            var d = HalfToSingle(w0 & Vector512.Create(0xFFFFu));
            var dmin = HalfToSingle(w0 >> 16);
            // Mins as int16 pairs (mn_2m, mn_2m+1) per lane, against (B_2m, B_2m+1) where B_j = Σ of sub-block j's activations.
            var m01 = Avx512BW.Shuffle(mn0, Pick(0, 1)).AsInt16();
            var m23 = Avx512BW.Shuffle(mn0, Pick(2, 3)).AsInt16();
            var m45 = Avx512BW.Shuffle(mn1, Pick(0, 1)).AsInt16();
            var m67 = Avx512BW.Shuffle(mn1, Pick(2, 3)).AsInt16();
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
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TC>(byte* w, sbyte* q, nint qs, Vector512<short> scLo, Vector512<short> scHi,
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3) where TC : struct, ICols
    {
        int n = TC.Count;
        var m = Vector512.Create((byte)0x0F);
        var v0 = Vector512.Load(w);
        var v1 = Vector512.Load(w + 64);
        var v2 = Vector512.Load(w + 128);
        var v3 = Vector512.Load(w + 192);
        var v4 = Vector512.Load(w + 256);
        var v5 = Vector512.Load(w + 320);
        var v6 = Vector512.Load(w + 384);
        var v7 = Vector512.Load(w + 448);
        var l0 = v0 & m; var h0 = High(v0, m);
        var l1 = v1 & m; var h1 = High(v1, m);
        var l2 = v2 & m; var h2 = High(v2, m);
        var l3 = v3 & m; var h3 = High(v3, m);
        var l4 = v4 & m; var h4 = High(v4, m);
        var l5 = v5 & m; var h5 = High(v5, m);
        var l6 = v6 & m; var h6 = High(v6, m);
        var l7 = v7 & m; var h7 = High(v7, m);
        i0 += Column(q, l0, l1, l2, l3, l4, l5, l6, l7, scLo) + Column(q + 32, h0, h1, h2, h3, h4, h5, h6, h7, scHi);
        if (n > 1) i1 += Column(q + qs, l0, l1, l2, l3, l4, l5, l6, l7, scLo) + Column(q + qs + 32, h0, h1, h2, h3, h4, h5, h6, h7, scHi);
        if (n > 2) i2 += Column(q + 2 * qs, l0, l1, l2, l3, l4, l5, l6, l7, scLo) + Column(q + 2 * qs + 32, h0, h1, h2, h3, h4, h5, h6, h7, scHi);
        if (n > 3) i3 += Column(q + 3 * qs, l0, l1, l2, l3, l4, l5, l6, l7, scLo) + Column(q + 3 * qs + 32, h0, h1, h2, h3, h4, h5, h6, h7, scHi);
    }

    /// <summary>sc · Σ u·q over one 32-element sub-block: chunk t of every row against activations 4t .. 4t + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Column(sbyte* q, Vector512<byte> u0, Vector512<byte> u1, Vector512<byte> u2, Vector512<byte> u3,
        Vector512<byte> u4, Vector512<byte> u5, Vector512<byte> u6, Vector512<byte> u7, Vector512<short> sc)
    {
        var p = (Avx512BW.MultiplyAddAdjacent(u0, Broadcast(q)) + Avx512BW.MultiplyAddAdjacent(u1, Broadcast(q + 4)))
              + (Avx512BW.MultiplyAddAdjacent(u2, Broadcast(q + 8)) + Avx512BW.MultiplyAddAdjacent(u3, Broadcast(q + 12)))
              + ((Avx512BW.MultiplyAddAdjacent(u4, Broadcast(q + 16)) + Avx512BW.MultiplyAddAdjacent(u5, Broadcast(q + 20)))
              + (Avx512BW.MultiplyAddAdjacent(u6, Broadcast(q + 24)) + Avx512BW.MultiplyAddAdjacent(u7, Broadcast(q + 28))));
        return Avx512BW.MultiplyAddAdjacent(p, sc);
    }

    /// <summary>Σ_j mn_j·B_j for one column, B_j = bsum[2j] + bsum[2j + 1] (|B_j| ≤ 32·127 fits int16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Mins(Vector512<short> m01, Vector512<short> m23, Vector512<short> m45, Vector512<short> m67, short* b) =>
        (Avx512BW.MultiplyAddAdjacent(m01, Sums(b)) + Avx512BW.MultiplyAddAdjacent(m23, Sums(b + 4)))
        + (Avx512BW.MultiplyAddAdjacent(m45, Sums(b + 8)) + Avx512BW.MultiplyAddAdjacent(m67, Sums(b + 12)));

    /// <summary>(b0 + b1, b2 + b3) as an int16 pair in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Sums(short* b) => Vector512.Create((ushort)(b[0] + b[1]) | (b[2] + b[3]) << 16).AsInt16();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column(Vector512<float> acc, Vector512<int> isum, Vector512<int> msum,
        Vector512<float> d, Vector512<float> dmin, float da)
    {
        var t = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), d, -(Avx512F.ConvertToVector512Single(msum) * dmin));
        return Vector512.FusedMultiplyAdd(t, Vector512.Create(da), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> High(Vector512<byte> v, Vector512<byte> m) => Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Broadcast(sbyte* q) => Vector512.Create(*(int*)q).AsSByte();

    /// <summary>Byte k of each lane in both int16 halves of the lane: row i's scale of one sub-block, ready for vpmaddwd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Spread(Vector512<byte> v, int k) => Avx512BW.Shuffle(v, Pick(k, k)).AsInt16();

    /// <summary>vpshufb index: lane bytes k0 and k1, each zero-extended to an int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pick(int k0, int k1) => Vector512.Create(Vector128.Create(
        (byte)k0, 0x80, (byte)k1, 0x80, (byte)(4 + k0), 0x80, (byte)(4 + k1), 0x80,
        (byte)(8 + k0), 0x80, (byte)(8 + k1), 0x80, (byte)(12 + k0), 0x80, (byte)(12 + k1), 0x80));
}
