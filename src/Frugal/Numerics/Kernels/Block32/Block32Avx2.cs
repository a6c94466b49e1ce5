using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX2 path: one 32-element block per ymm, vpmaddubsw + vpmaddwd, sign trick (vpsignb) for Q8_0. Each block is
/// unpacked once and dotted with up to 8 activation rows; the offset formats (Q4_0, Q5_0) fold their offset term
/// into the one FMA chain per column: dw·(f·da + offset·s).
/// </summary>
internal readonly unsafe struct Block32Avx2 : IBlock32Isa
{
    public static void Dot2<TF, TC>(byte* w0, byte* w1, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        Dot<TF, TC>(w0, nb, a, col, result);
        Dot<TF, TC>(w1, nb, a, col, result + ColTile.MaxWide);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX2 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        // Formats with their own min keep its term in separate accumulators: two independent FMA chains.
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        Vector256<float> m4 = default, m5 = default, m6 = default, m7 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = w + (nint)b * TF.Bytes;
            TF.Unpack(blk, out var lo, out var hi);
            var u = Vector256.Create(lo, hi);
            var dw = Vector256.Create(TF.D(blk));
            var mw = TF.HasMin ? Vector256.Create(TF.M(blk)) : default;
            var sign = u.AsSByte();
            if (TF.Signed)
                u = Avx2.Abs(sign);
            sbyte* qb = q + b * 32;
            float* sb = s + (b >> 1) * 4 + (b & 1);
            
            {
                acc0 = Step<TF>(acc0, u, sign, qb, sb, dw);
                if (TF.HasMin)
                    m0 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(sb[2]), m0);
            }
            if (n > 1)
            {
                acc1 = Step<TF>(acc1, u, sign, qb + qs, sb + ss, dw);
                if (TF.HasMin)
                    m1 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + ss)[2]), m1);
            }
            if (n > 2)
            {
                acc2 = Step<TF>(acc2, u, sign, qb + 2 * qs, sb + 2 * ss, dw);
                if (TF.HasMin)
                    m2 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 2 * ss)[2]), m2);
            }
            if (n > 3)
            {
                acc3 = Step<TF>(acc3, u, sign, qb + 3 * qs, sb + 3 * ss, dw);
                if (TF.HasMin)
                    m3 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 3 * ss)[2]), m3);
            }
            if (n > 4)
            {
                acc4 = Step<TF>(acc4, u, sign, qb + 4 * qs, sb + 4 * ss, dw);
                if (TF.HasMin)
                    m4 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 4 * ss)[2]), m4);
            }
            if (n > 5)
            {
                acc5 = Step<TF>(acc5, u, sign, qb + 5 * qs, sb + 5 * ss, dw);
                if (TF.HasMin)
                    m5 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 5 * ss)[2]), m5);
            }
            if (n > 6)
            {
                acc6 = Step<TF>(acc6, u, sign, qb + 6 * qs, sb + 6 * ss, dw);
                if (TF.HasMin)
                    m6 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 6 * ss)[2]), m6);
            }
            if (n > 7)
            {
                acc7 = Step<TF>(acc7, u, sign, qb + 7 * qs, sb + 7 * ss, dw);
                if (TF.HasMin)
                    m7 = Vector256.FusedMultiplyAdd(mw, Vector256.Create((sb + 7 * ss)[2]), m7);
            }
        }
        result[0] = Vector256.Sum(TF.HasMin ? acc0 + m0 : acc0);
        if (n > 1) result[1] = Vector256.Sum(TF.HasMin ? acc1 + m1 : acc1);
        if (n > 2) result[2] = Vector256.Sum(TF.HasMin ? acc2 + m2 : acc2);
        if (n > 3) result[3] = Vector256.Sum(TF.HasMin ? acc3 + m3 : acc3);
        if (n > 4) result[4] = Vector256.Sum(TF.HasMin ? acc4 + m4 : acc4);
        if (n > 5) result[5] = Vector256.Sum(TF.HasMin ? acc5 + m5 : acc5);
        if (n > 6) result[6] = Vector256.Sum(TF.HasMin ? acc6 + m6 : acc6);
        if (n > 7) result[7] = Vector256.Sum(TF.HasMin ? acc7 + m7 : acc7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step<TF>(Vector256<float> acc, Vector256<byte> u, Vector256<sbyte> sign, sbyte* q, float* s,
        Vector256<float> dw)
        where TF : struct, IBlock32Format
    {
        var av = Vector256.Load(q);
        if (TF.Signed)
            av = Avx2.Sign(av, sign);
        var p = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, av), Vector256.Create((short)1));
        var f = Avx.ConvertToVector256Single(p);
        var da = Vector256.Create(s[0]);
        if (TF.Signed || TF.HasMin)
            return Vector256.FusedMultiplyAdd(dw, f * da, acc);
        return Vector256.FusedMultiplyAdd(dw, Vector256.FusedMultiplyAdd(f, da, Vector256.Create(s[2] * TF.Offset)), acc);
    }
}
