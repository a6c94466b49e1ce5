using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// AVX-512BW path: two 32-element blocks per zmm. u8·s8 pairs by vpmaddubsw, widened by vpmaddwd with ones, then
/// scaled in f32 lanes: each pair's weight and activation scales are spread to their block's 8 lanes by one vpermps
/// (see <see cref="QuantizedRows"/>). Q8_0 weights are
/// signed, so the sign moves onto the activations (|w|·sign(a, w)) to keep vpmaddubsw's operand unsigned.
/// Each block pair is unpacked once and dotted with all TC (up to 8) activation rows, so a batched decode step of
/// eight sequences reads and unpacks every weight once. For the formats with a constant offset (Q4_0, Q5_0) the
/// offset term folds into the same FMA chain: dw·(f·da + offset·s), one accumulator per column.
/// </summary>
internal readonly unsafe partial struct Block32Avx512 : IBlock32Isa
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TF, TC>(byte* w, int nb, in QuantizedRows a, int col, float* result)
        where TF : struct, IBlock32Format
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX-512 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        // Formats with their own min keep its term in separate accumulators: two independent FMA chains.
        Vector512<float> m0 = default, m1 = default, m2 = default, m3 = default;
        Vector512<float> m4 = default, m5 = default, m6 = default, m7 = default;
        var lane = Vector512.ShiftRightLogical(Vector512<int>.Indices, 3);
        var laneHi = lane + Vector512.Create(2); // the second half of a 4-float scale group
        Vector512<float> scales = default; // f32 weight scales of the current quad of blocks (formats without a min)
        for (int b = 0; b < nb; b += 2)
        {
            byte* wa = w + (nint)b * TF.Bytes;
            bool pair = b + 1 < nb;
            byte* wb = pair ? wa + TF.Bytes : wa;
            // An unpaired last block is dotted with itself: its partner's scales (weight and activation) are zero.
            var u = TF.UnpackPair(wa, wb);
            Vector512<float> dw, mw = default;
            if (TF.HasMin)
            {
                // Both blocks' fp16 scales and mins converted in one vector, then spread over each block's 8 lanes.
                var h = Vector128.Create(Unsafe.ReadUnaligned<ushort>(wa), pair ? Unsafe.ReadUnaligned<ushort>(wb) : 0u,
                    Unsafe.ReadUnaligned<ushort>(wa + 2), pair ? Unsafe.ReadUnaligned<ushort>(wb + 2) : 0u);
                var f512 = HalfToSingle(h).ToVector256Unsafe().ToVector512Unsafe();
                dw = Avx512F.PermuteVar16x32(f512, lane);
                mw = Avx512F.PermuteVar16x32(f512, laneHi);
            }
            else
            {
                // Four blocks' fp16 scales converted at once, every other pair; blocks past the end get scale 0.
                if ((b & 2) == 0)
                {
                    byte* wc = wa + 2 * TF.Bytes;
                    var h = Vector128.Create(Unsafe.ReadUnaligned<ushort>(wa), pair ? Unsafe.ReadUnaligned<ushort>(wb) : 0u,
                        b + 2 < nb ? Unsafe.ReadUnaligned<ushort>(wc) : 0u, b + 3 < nb ? Unsafe.ReadUnaligned<ushort>(wc + TF.Bytes) : 0u);
                    scales = HalfToSingle(h).ToVector256Unsafe().ToVector512Unsafe();
                    dw = Avx512F.PermuteVar16x32(scales, lane);
                }
                else
                {
                    dw = Avx512F.PermuteVar16x32(scales, laneHi);
                }
            }
            var sign = u.AsSByte();
            var neg = TF.Signed ? Vector512.LessThan(sign, Vector512<sbyte>.Zero) : default;
            if (TF.Signed)
                u = Avx512BW.Abs(sign).AsByte();
            sbyte* qb = q + b * 32;
            float* sb = s + b * 2;
            
            {
                acc0 = Step<TF>(acc0, u, neg, qb, sb, lane, laneHi, dw);
                if (TF.HasMin)
                    m0 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m0);
            }
            if (n > 1)
            {
                acc1 = Step<TF>(acc1, u, neg, qb + qs, sb + ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m1 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m1);
            }
            if (n > 2)
            {
                acc2 = Step<TF>(acc2, u, neg, qb + 2 * qs, sb + 2 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m2 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 2 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m2);
            }
            if (n > 3)
            {
                acc3 = Step<TF>(acc3, u, neg, qb + 3 * qs, sb + 3 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m3 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 3 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m3);
            }
            if (n > 4)
            {
                acc4 = Step<TF>(acc4, u, neg, qb + 4 * qs, sb + 4 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m4 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 4 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m4);
            }
            if (n > 5)
            {
                acc5 = Step<TF>(acc5, u, neg, qb + 5 * qs, sb + 5 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m5 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 5 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m5);
            }
            if (n > 6)
            {
                acc6 = Step<TF>(acc6, u, neg, qb + 6 * qs, sb + 6 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m6 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 6 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m6);
            }
            if (n > 7)
            {
                acc7 = Step<TF>(acc7, u, neg, qb + 7 * qs, sb + 7 * ss, lane, laneHi, dw);
                if (TF.HasMin)
                    m7 = Vector512.FusedMultiplyAdd(mw, Avx512F.PermuteVar16x32(Vector128.Load(sb + 7 * ss).ToVector256Unsafe().ToVector512Unsafe(), laneHi), m7);
            }
        }
        result[0] = Vector512.Sum(TF.HasMin ? acc0 + m0 : acc0);
        if (n > 1) result[1] = Vector512.Sum(TF.HasMin ? acc1 + m1 : acc1);
        if (n > 2) result[2] = Vector512.Sum(TF.HasMin ? acc2 + m2 : acc2);
        if (n > 3) result[3] = Vector512.Sum(TF.HasMin ? acc3 + m3 : acc3);
        if (n > 4) result[4] = Vector512.Sum(TF.HasMin ? acc4 + m4 : acc4);
        if (n > 5) result[5] = Vector512.Sum(TF.HasMin ? acc5 + m5 : acc5);
        if (n > 6) result[6] = Vector512.Sum(TF.HasMin ? acc6 + m6 : acc6);
        if (n > 7) result[7] = Vector512.Sum(TF.HasMin ? acc7 + m7 : acc7);
    }

    /// <summary>
    /// True for the constant-offset formats (Q4_0, Q5_0): on this path the activation sums s of the Q8_0 form come
    /// pre-multiplied by the format's offset (<see cref="PreScale"/>), saving a multiply per column and block pair.
    /// </summary>
    internal static bool PreScaledOffset<TF>() where TF : struct, IBlock32Format => !TF.Signed && !TF.HasMin;

    /// <summary>Multiplies the s entries ([dA, dB, sA, sB] per pair) of one activation row by <paramref name="offset"/>.</summary>
    public static void PreScale(float* scales, int blocks, float offset)
    {
        var k = Vector128.Create(1, 1, offset, offset);
        for (int p = 0; p < (blocks + 1) / 2; p++)
            (Vector128.Load(scales + p * 4) * k).Store(scales + p * 4);
    }

    /// <summary>Four fp16 bit patterns (one per u32 lane) as f32, exact: see <see cref="Block32Bits.Half"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HalfToSingle(Vector128<uint> h) =>
        (((h & Vector128.Create(0x7FFFu)) << 13) | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle()
        * Vector128.Create(5.192296858534828e33f); // 2^112

    /// <summary>
    /// One column's share of a block pair: the integer dot, then dw·(f·da) for the signed and min formats, or
    /// dw·(f·da + offset·s) for the offset formats (their min is dw·offset, so both terms share dw).
    /// <paramref name="s"/> points at the pair's 4 activation scale floats [dA, dB, sA, sB], spread to lanes by vpermps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Step<TF>(Vector512<float> acc, Vector512<byte> u, Vector512<sbyte> neg, sbyte* q, float* s,
        Vector512<int> lane, Vector512<int> laneHi, Vector512<float> dw)
        where TF : struct, IBlock32Format
    {
        var av = Vector512.Load(q);
        if (TF.Signed)
            av = Vector512.ConditionalSelect(neg, -av, av);
        var p = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(u, av), Vector512.Create((short)1));
        var f = Avx512F.ConvertToVector512Single(p);
        var sv = Vector128.Load(s).ToVector256Unsafe().ToVector512Unsafe();
        var da = Avx512F.PermuteVar16x32(sv, lane);
        if (TF.Signed || TF.HasMin)
            return Vector512.FusedMultiplyAdd(dw, f * da, acc);
        // s is offset·d·Σq/8 here: MatMulJob pre-scales it for these formats (see PreScaledOffset).
        var off = Avx512F.PermuteVar16x32(sv, laneHi);
        return Vector512.FusedMultiplyAdd(dw, Vector512.FusedMultiplyAdd(f, da, off), acc);
    }
}
