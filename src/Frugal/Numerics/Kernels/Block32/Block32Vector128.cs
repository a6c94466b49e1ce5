using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Portable 128-bit path (SSE on x86 without AVX2, NEON on ARM). Integer dots use ARM's sdot where the CPU has it
/// and otherwise widen to 16 bits, multiply and pairwise add, which every 128-bit ISA does natively.
/// </summary>
internal readonly unsafe struct Block32Vector128 : IBlock32Isa
{
    public static void Dot2<TF, TC>(byte* w0, byte* w1, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        Dot<TF, TC>(w0, nb, a, col, result);
        Dot<TF, TC>(w1, nb, a, col, result + ColTile.MaxWide);
    }

    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxVector128)
            throw new ArgumentOutOfRangeException(nameof(TC), "the 128-bit kernel serves at most 4 columns");
        sbyte* q0 = a.QsRow(col), q1 = n > 1 ? a.QsRow(col + 1) : q0, q2 = n > 2 ? a.QsRow(col + 2) : q0, q3 = n > 3 ? a.QsRow(col + 3) : q0;
        float* s0 = a.ScaleRow(col), s1 = n > 1 ? a.ScaleRow(col + 1) : s0, s2 = n > 2 ? a.ScaleRow(col + 2) : s0, s3 = n > 3 ? a.ScaleRow(col + 3) : s0;
        Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = w + (nint)b * TF.Bytes;
            TF.Unpack(blk, out var lo, out var hi);
            float d = TF.D(blk);
            var dw = Vector128.Create(d);
            // The activation sum lanes hold d·Σq/8 for 8 lanes; 4 lanes here, so twice that.
            var mw = Vector128.Create((TF.HasMin ? TF.M(blk) : d * TF.Offset) * 2);
            int qo = b * 32, so = (b >> 1) * 4 + (b & 1);
            acc0 = Step<TF>(acc0, lo, hi, q0 + qo, s0 + so, dw, mw);
            if (n > 1) acc1 = Step<TF>(acc1, lo, hi, q1 + qo, s1 + so, dw, mw);
            if (n > 2) acc2 = Step<TF>(acc2, lo, hi, q2 + qo, s2 + so, dw, mw);
            if (n > 3) acc3 = Step<TF>(acc3, lo, hi, q3 + qo, s3 + so, dw, mw);
        }
        result[0] = Vector128.Sum(acc0);
        if (n > 1) result[1] = Vector128.Sum(acc1);
        if (n > 2) result[2] = Vector128.Sum(acc2);
        if (n > 3) result[3] = Vector128.Sum(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Step<TF>(Vector128<float> acc, Vector128<byte> lo, Vector128<byte> hi, sbyte* q, float* s,
        Vector128<float> dw, Vector128<float> mw)
        where TF : struct, IBlock32Format
    {
        var isum = Dot16(lo, Vector128.Load(q), TF.Signed) + Dot16(hi, Vector128.Load(q + 16), TF.Signed);
        var f = Vector128.ConvertToSingle(isum);
        acc += dw * (f * Vector128.Create(s[0]));
        if (!TF.Signed)
            acc += mw * Vector128.Create(s[2]);
        return acc;
    }

    /// <summary>Four partial sums of u[i]·a[i] over 16 bytes; u is signed when <paramref name="signed"/>, else at most 127.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Dot16(Vector128<byte> u, Vector128<sbyte> a, bool signed)
    {
        if (Dp.IsSupported)
            return Dp.DotProduct(Vector128<int>.Zero, u.AsSByte(), a);
        Vector128<short> ul, uh;
        if (signed)
        {
            ul = Vector128.WidenLower(u.AsSByte());
            uh = Vector128.WidenUpper(u.AsSByte());
        }
        else
        {
            ul = Vector128.WidenLower(u).AsInt16();
            uh = Vector128.WidenUpper(u).AsInt16();
        }
        // |u·a| <= 128·128, so the sum of the two halves still fits in 16 bits.
        var prod = ul * Vector128.WidenLower(a) + uh * Vector128.WidenUpper(a);
        return Vector128.WidenLower(prod) + Vector128.WidenUpper(prod);
    }
}
