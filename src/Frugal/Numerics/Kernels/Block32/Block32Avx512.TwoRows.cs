using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Two weight rows against the same TC activation rows: each column's activation block pair is loaded and its
/// scales spread to lanes once for both rows. Every row's arithmetic is exactly that of <see cref="Dot"/> (same
/// operations in the same order), so results do not depend on whether a row went through here.
/// The formats with a min (Q4_1, Q5_1) would need 32 accumulators at eight columns; they take two single-row calls.
/// </summary>
internal readonly unsafe partial struct Block32Avx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot2<TF, TC>(byte* w0, byte* w1, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        if (TF.HasMin)
        {
            Dot<TF, TC>(w0, nb, a, col, result);
            Dot<TF, TC>(w1, nb, a, col, result + ColTile.MaxWide);
            return;
        }
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX-512 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a04 = default, a05 = default, a06 = default, a07 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a14 = default, a15 = default, a16 = default, a17 = default;
        var lane = Vector512.ShiftRightLogical(Vector512<int>.Indices, 3);
        var laneHi = lane + Vector512.Create(2);
        Vector512<float> scales0 = default, scales1 = default; // f32 weight scales of the current quad of blocks
        for (int b = 0; b < nb; b += 2)
        {
            nint o = (nint)b * TF.Bytes;
            bool pair = b + 1 < nb;
            nint ob = pair ? o + TF.Bytes : o;
            // An unpaired last block is dotted with itself: its partner's scales (weight and activation) are zero.
            var u0 = TF.UnpackPair(w0 + o, w0 + ob);
            var u1 = TF.UnpackPair(w1 + o, w1 + ob);
            Vector512<float> dw0, dw1;
            if ((b & 2) == 0)
            {
                scales0 = QuadScales<TF>(w0 + o, b, nb);
                scales1 = QuadScales<TF>(w1 + o, b, nb);
                dw0 = Avx512F.PermuteVar16x32(scales0, lane);
                dw1 = Avx512F.PermuteVar16x32(scales1, lane);
            }
            else
            {
                dw0 = Avx512F.PermuteVar16x32(scales0, laneHi);
                dw1 = Avx512F.PermuteVar16x32(scales1, laneHi);
            }
            var neg0 = TF.Signed ? Vector512.LessThan(u0.AsSByte(), Vector512<sbyte>.Zero) : default;
            var neg1 = TF.Signed ? Vector512.LessThan(u1.AsSByte(), Vector512<sbyte>.Zero) : default;
            if (TF.Signed)
            {
                u0 = Avx512BW.Abs(u0.AsSByte()).AsByte();
                u1 = Avx512BW.Abs(u1.AsSByte()).AsByte();
            }
            sbyte* qb = q + b * 32;
            float* sb = s + b * 2;
            {
                var av = Vector512.Load(qb);
                var sv = Vector128.Load(sb).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a00 = Step2<TF>(a00, u0, neg0, av, da, off, dw0);
                a10 = Step2<TF>(a10, u1, neg1, av, da, off, dw1);
            }
            if (n > 1)
            {
                var av = Vector512.Load(qb + qs);
                var sv = Vector128.Load(sb + ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a01 = Step2<TF>(a01, u0, neg0, av, da, off, dw0);
                a11 = Step2<TF>(a11, u1, neg1, av, da, off, dw1);
            }
            if (n > 2)
            {
                var av = Vector512.Load(qb + 2 * qs);
                var sv = Vector128.Load(sb + 2 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a02 = Step2<TF>(a02, u0, neg0, av, da, off, dw0);
                a12 = Step2<TF>(a12, u1, neg1, av, da, off, dw1);
            }
            if (n > 3)
            {
                var av = Vector512.Load(qb + 3 * qs);
                var sv = Vector128.Load(sb + 3 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a03 = Step2<TF>(a03, u0, neg0, av, da, off, dw0);
                a13 = Step2<TF>(a13, u1, neg1, av, da, off, dw1);
            }
            if (n > 4)
            {
                var av = Vector512.Load(qb + 4 * qs);
                var sv = Vector128.Load(sb + 4 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a04 = Step2<TF>(a04, u0, neg0, av, da, off, dw0);
                a14 = Step2<TF>(a14, u1, neg1, av, da, off, dw1);
            }
            if (n > 5)
            {
                var av = Vector512.Load(qb + 5 * qs);
                var sv = Vector128.Load(sb + 5 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a05 = Step2<TF>(a05, u0, neg0, av, da, off, dw0);
                a15 = Step2<TF>(a15, u1, neg1, av, da, off, dw1);
            }
            if (n > 6)
            {
                var av = Vector512.Load(qb + 6 * qs);
                var sv = Vector128.Load(sb + 6 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a06 = Step2<TF>(a06, u0, neg0, av, da, off, dw0);
                a16 = Step2<TF>(a16, u1, neg1, av, da, off, dw1);
            }
            if (n > 7)
            {
                var av = Vector512.Load(qb + 7 * qs);
                var sv = Vector128.Load(sb + 7 * ss).ToVector256Unsafe().ToVector512Unsafe();
                var da = Avx512F.PermuteVar16x32(sv, lane);
                var off = TF.Signed ? default : Avx512F.PermuteVar16x32(sv, laneHi);
                a07 = Step2<TF>(a07, u0, neg0, av, da, off, dw0);
                a17 = Step2<TF>(a17, u1, neg1, av, da, off, dw1);
            }
        }
        { result[0] = Vector512.Sum(a00); result[ColTile.MaxWide + 0] = Vector512.Sum(a10); }
        if (n > 1) { result[1] = Vector512.Sum(a01); result[ColTile.MaxWide + 1] = Vector512.Sum(a11); }
        if (n > 2) { result[2] = Vector512.Sum(a02); result[ColTile.MaxWide + 2] = Vector512.Sum(a12); }
        if (n > 3) { result[3] = Vector512.Sum(a03); result[ColTile.MaxWide + 3] = Vector512.Sum(a13); }
        if (n > 4) { result[4] = Vector512.Sum(a04); result[ColTile.MaxWide + 4] = Vector512.Sum(a14); }
        if (n > 5) { result[5] = Vector512.Sum(a05); result[ColTile.MaxWide + 5] = Vector512.Sum(a15); }
        if (n > 6) { result[6] = Vector512.Sum(a06); result[ColTile.MaxWide + 6] = Vector512.Sum(a16); }
        if (n > 7) { result[7] = Vector512.Sum(a07); result[ColTile.MaxWide + 7] = Vector512.Sum(a17); }
    }

    /// <summary>The f32 scales of blocks b .. b + 3 of a row at <paramref name="wa"/> (block b); blocks past the end get 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> QuadScales<TF>(byte* wa, int b, int nb) where TF : struct, IBlock32Format
    {
        byte* wc = wa + 2 * TF.Bytes;
        var h = Vector128.Create(Unsafe.ReadUnaligned<ushort>(wa), b + 1 < nb ? Unsafe.ReadUnaligned<ushort>(wa + TF.Bytes) : 0u,
            b + 2 < nb ? Unsafe.ReadUnaligned<ushort>(wc) : 0u, b + 3 < nb ? Unsafe.ReadUnaligned<ushort>(wc + TF.Bytes) : 0u);
        return HalfToSingle(h).ToVector256Unsafe().ToVector512Unsafe();
    }

    /// <summary>Step's arithmetic with the column's activations and lane-spread scales already loaded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step2<TF>(Vector512<float> acc, Vector512<byte> u, Vector512<sbyte> neg, Vector512<sbyte> av,
        Vector512<float> da, Vector512<float> off, Vector512<float> dw)
        where TF : struct, IBlock32Format
    {
        if (TF.Signed)
            av = Vector512.ConditionalSelect(neg, -av, av);
        var p = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, av), Vector512.Create((short)1));
        var f = Avx512F.ConvertToVector512Single(p);
        if (TF.Signed)
            return Vector512.FusedMultiplyAdd(dw, f * da, acc);
        return Vector512.FusedMultiplyAdd(dw, Vector512.FusedMultiplyAdd(f, da, off), acc);
    }
}
