using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW path: two 32-element blocks per zmm. u8·s8 pairs by vpmaddubsw, widened by vpmaddwd with ones, then
/// scaled in f32 lanes with the pre-broadcast activation scales (see <see cref="QuantizedRows"/>). Q8_0 weights are
/// signed, so the sign moves onto the activations (|w|·sign(a, w)) to keep vpmaddubsw's operand unsigned.
/// </summary>
internal readonly unsafe struct Block32Avx512 : IBlock32Isa
{
    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        int n = TC.Count;
        sbyte* q0 = a.QsRow(col), q1 = n > 1 ? a.QsRow(col + 1) : q0, q2 = n > 2 ? a.QsRow(col + 2) : q0, q3 = n > 3 ? a.QsRow(col + 3) : q0;
        float* s0 = a.ScaleRow(col), s1 = n > 1 ? a.ScaleRow(col + 1) : s0, s2 = n > 2 ? a.ScaleRow(col + 2) : s0, s3 = n > 3 ? a.ScaleRow(col + 3) : s0;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        // Separate accumulators for the min/offset term: two independent FMA chains instead of one twice as long.
        Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default;
        for (int b = 0; b < nb; b += 2)
        {
            byte* wa = w + (nint)b * TF.Bytes;
            TF.Unpack(wa, out var la, out var ha);
            float dA = TF.D(wa), mA = TF.HasMin ? TF.M(wa) : dA * TF.Offset;
            Vector256<byte> ub = default;
            float dB = 0, mB = 0;
            if (b + 1 < nb)
            {
                byte* wb = wa + TF.Bytes;
                TF.Unpack(wb, out var lb, out var hb);
                ub = Vector256.Create(lb, hb);
                dB = TF.D(wb);
                mB = TF.HasMin ? TF.M(wb) : dB * TF.Offset;
            }
            var u = Vector512.Create(Vector256.Create(la, ha), ub);
            var dw = Vector512.Create(Vector256.Create(dA), Vector256.Create(dB));
            var mw = TF.HasMin ? Vector512.Create(Vector256.Create(mA), Vector256.Create(mB)) : dw * TF.Offset;
            var sign = u.AsSByte();
            if (TF.Signed)
                u = Avx512BW.Abs(sign).AsByte();
            int qo = b * 32, so = (b >> 1) * 32;
            { acc0 = Step<TF>(acc0, u, sign, q0 + qo, s0 + so, dw, mw); if (!TF.Signed) m0 = Vector512.FusedMultiplyAdd(mw, Vector512.Load(s0 + so + 16), m0); }
            if (n > 1) { acc1 = Step<TF>(acc1, u, sign, q1 + qo, s1 + so, dw, mw); if (!TF.Signed) m1 = Vector512.FusedMultiplyAdd(mw, Vector512.Load(s1 + so + 16), m1); }
            if (n > 2) { acc2 = Step<TF>(acc2, u, sign, q2 + qo, s2 + so, dw, mw); if (!TF.Signed) m2 = Vector512.FusedMultiplyAdd(mw, Vector512.Load(s2 + so + 16), m2); }
            if (n > 3) { acc3 = Step<TF>(acc3, u, sign, q3 + qo, s3 + so, dw, mw); if (!TF.Signed) m3 = Vector512.FusedMultiplyAdd(mw, Vector512.Load(s3 + so + 16), m3); }
        }
        result[0] = Vector512.Sum(acc0 + m0);
        if (n > 1) result[1] = Vector512.Sum(acc1 + m1);
        if (n > 2) result[2] = Vector512.Sum(acc2 + m2);
        if (n > 3) result[3] = Vector512.Sum(acc3 + m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step<TF>(Vector512<float> acc, Vector512<byte> u, Vector512<sbyte> sign, sbyte* q, float* s,
        Vector512<float> dw, Vector512<float> mw)
        where TF : struct, IBlock32Format
    {
        var av = Vector512.Load(q);
        if (TF.Signed)
            av = Vector512.ConditionalSelect(Vector512.LessThan(sign, Vector512<sbyte>.Zero), -av, av);
        var p = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, av), Vector512.Create((short)1));
        var f = Avx512F.ConvertToVector512Single(p);
        return Vector512.FusedMultiplyAdd(dw, f * Vector512.Load(s), acc);
    }
}
