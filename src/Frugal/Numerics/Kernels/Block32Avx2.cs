using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>AVX2 path: one 32-element block per ymm, vpmaddubsw + vpmaddwd, sign trick (vpsignb) for Q8_0.</summary>
internal readonly unsafe struct Block32Avx2 : IBlock32Isa
{
    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        int n = TC.Count;
        sbyte* q0 = a.QsRow(col), q1 = n > 1 ? a.QsRow(col + 1) : q0, q2 = n > 2 ? a.QsRow(col + 2) : q0, q3 = n > 3 ? a.QsRow(col + 3) : q0;
        float* s0 = a.ScaleRow(col), s1 = n > 1 ? a.ScaleRow(col + 1) : s0, s2 = n > 2 ? a.ScaleRow(col + 2) : s0, s3 = n > 3 ? a.ScaleRow(col + 3) : s0;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        // Separate accumulators for the min/offset term: two independent FMA chains instead of one twice as long.
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = w + (nint)b * TF.Bytes;
            TF.Unpack(blk, out var lo, out var hi);
            var u = Vector256.Create(lo, hi);
            float d = TF.D(blk);
            var dw = Vector256.Create(d);
            var mw = TF.HasMin ? Vector256.Create(TF.M(blk)) : dw * TF.Offset;
            var sign = u.AsSByte();
            if (TF.Signed)
                u = Avx2.Abs(sign);
            int qo = b * 32, so = (b >> 1) * 4 + (b & 1);
            {
                acc0 = Step<TF>(acc0, u, sign, q0 + qo, s0 + so, dw, mw);
                if (!TF.Signed)
                    m0 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(s0[so + 2]), m0);
            }
            if (n > 1)
            {
                acc1 = Step<TF>(acc1, u, sign, q1 + qo, s1 + so, dw, mw);
                if (!TF.Signed)
                    m1 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(s1[so + 2]), m1);
            }
            if (n > 2)
            {
                acc2 = Step<TF>(acc2, u, sign, q2 + qo, s2 + so, dw, mw);
                if (!TF.Signed)
                    m2 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(s2[so + 2]), m2);
            }
            if (n > 3)
            {
                acc3 = Step<TF>(acc3, u, sign, q3 + qo, s3 + so, dw, mw);
                if (!TF.Signed)
                    m3 = Vector256.FusedMultiplyAdd(mw, Vector256.Create(s3[so + 2]), m3);
            }
        }
        result[0] = Vector256.Sum(acc0 + m0);
        if (n > 1) result[1] = Vector256.Sum(acc1 + m1);
        if (n > 2) result[2] = Vector256.Sum(acc2 + m2);
        if (n > 3) result[3] = Vector256.Sum(acc3 + m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step<TF>(Vector256<float> acc, Vector256<byte> u, Vector256<sbyte> sign, sbyte* q, float* s,
        Vector256<float> dw, Vector256<float> mw)
        where TF : struct, IBlock32Format
    {
        var av = Vector256.Load(q);
        if (TF.Signed)
            av = Avx2.Sign(av, sign);
        var p = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, av), Vector256.Create((short)1));
        var f = Avx.ConvertToVector256Single(p);
        return Vector256.FusedMultiplyAdd(dw, f * Vector256.Create(*s), acc);
    }
}
