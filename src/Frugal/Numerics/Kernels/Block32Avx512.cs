using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW path: two 32-element blocks per zmm. u8·s8 pairs by vpmaddubsw, widened by vpmaddwd with ones, then
/// scaled in f32 lanes: each pair's weight and activation scales are spread to their block's 8 lanes by one vpermps
/// (see <see cref="QuantizedRows"/>). Q8_0 weights are
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
            bool pair = b + 1 < nb;
            byte* wb = pair ? wa + TF.Bytes : wa;
            TF.Unpack(wa, out var la, out var ha);
            TF.Unpack(wb, out var lb, out var hb);
            var u = Vector512.Create(Vector256.Create(la, ha), pair ? Vector256.Create(lb, hb) : Vector256<byte>.Zero);
            // Both blocks' fp16 scales (and mins) converted in one vector, then spread over each block's 8 lanes.
            var h = Vector128.Create(Unsafe.ReadUnaligned<ushort>(wa), pair ? Unsafe.ReadUnaligned<ushort>(wb) : 0u,
                TF.HasMin ? Unsafe.ReadUnaligned<ushort>(wa + 2) : 0u, TF.HasMin && pair ? Unsafe.ReadUnaligned<ushort>(wb + 2) : 0u);
            var f = (((h & Vector128.Create(0x7FFFu)) << 13) | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle()
                    * Vector128.Create(5.192296858534828e33f); // 2^112: exact fp16 -> f32, see Block32Bits.Half
            var f512 = f.ToVector256Unsafe().ToVector512Unsafe();
            var lane = Vector512.ShiftRightLogical(Vector512<int>.Indices, 3);
            var dw = Avx512F.PermuteVar16x32(f512, lane);
            var mw = TF.HasMin ? Avx512F.PermuteVar16x32(f512, lane + Vector512.Create(2)) : dw * TF.Offset;
            var sign = u.AsSByte();
            if (TF.Signed)
                u = Avx512BW.Abs(sign).AsByte();
            int qo = b * 32, so = b * 2; // (b / 2) pairs of 4 floats
            {
                acc0 = Step<TF>(acc0, u, sign, q0 + qo, Lanes(s0 + so, lane), dw);
                if (!TF.Signed)
                    m0 = Vector512.FusedMultiplyAdd(mw, Lanes(s0 + so, lane + Vector512.Create(2)), m0);
            }
            if (n > 1)
            {
                acc1 = Step<TF>(acc1, u, sign, q1 + qo, Lanes(s1 + so, lane), dw);
                if (!TF.Signed)
                    m1 = Vector512.FusedMultiplyAdd(mw, Lanes(s1 + so, lane + Vector512.Create(2)), m1);
            }
            if (n > 2)
            {
                acc2 = Step<TF>(acc2, u, sign, q2 + qo, Lanes(s2 + so, lane), dw);
                if (!TF.Signed)
                    m2 = Vector512.FusedMultiplyAdd(mw, Lanes(s2 + so, lane + Vector512.Create(2)), m2);
            }
            if (n > 3)
            {
                acc3 = Step<TF>(acc3, u, sign, q3 + qo, Lanes(s3 + so, lane), dw);
                if (!TF.Signed)
                    m3 = Vector512.FusedMultiplyAdd(mw, Lanes(s3 + so, lane + Vector512.Create(2)), m3);
            }
        }
        result[0] = Vector512.Sum(acc0 + m0);
        if (n > 1) result[1] = Vector512.Sum(acc1 + m1);
        if (n > 2) result[2] = Vector512.Sum(acc2 + m2);
        if (n > 3) result[3] = Vector512.Sum(acc3 + m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step<TF>(Vector512<float> acc, Vector512<byte> u, Vector512<sbyte> sign, sbyte* q, Vector512<float> da,
        Vector512<float> dw)
        where TF : struct, IBlock32Format
    {
        var av = Vector512.Load(q);
        if (TF.Signed)
            av = Vector512.ConditionalSelect(Vector512.LessThan(sign, Vector512<sbyte>.Zero), -av, av);
        var p = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, av), Vector512.Create((short)1));
        var f = Avx512F.ConvertToVector512Single(p);
        return Vector512.FusedMultiplyAdd(dw, f * da, acc);
    }

    /// <summary>The pair's 4 activation scale floats at <paramref name="s"/>, spread to 16 lanes by <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(float* s, Vector512<int> index) =>
        Avx512F.PermuteVar16x32(Vector128.Load(s).ToVector256Unsafe().ToVector512Unsafe(), index);
}
