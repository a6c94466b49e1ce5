using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// One instruction-set path of the k-quant dot kernels: each weight super-block is unpacked once into the common
/// form of <see cref="IKQuantFormat"/> (a 320-byte stack buffer, L1-resident) and then dotted with the Q8_K
/// activations of every served column, so the unpack cost is shared by the micro-tile's four tokens.
/// </summary>
internal unsafe interface IKQuantIsa
{
    static abstract void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols;
}

internal static unsafe class KQuantShared
{
    /// <summary>dmin·da·Σ mn[g]·bsum[g]: the min (or offset) part of one super-block dot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MinTerm(in QuantizedRows a, int c, int sb, float dmin, short* mn) =>
        dmin * a.ScaleRow(c)[sb] * MinDot(mn, a.SumRow(c) + sb * 16, simd: true);

    /// <summary>Accumulates dmin·da·(mn[g]·bsum[g] pair sums) in 8 f32 lanes (AVX2; every AVX-512 CPU has it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MinVector(Vector256<float> acc, in QuantizedRows a, int c, int sb, float dmin, short* mn)
    {
        var p = Avx2.MultiplyAddAdjacent(Vector256.Load(mn), Vector256.Load(a.SumRow(c) + sb * 16));
        return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(dmin * a.ScaleRow(c)[sb]), acc);
    }

    /// <summary>Σ mn[g]·bsum[g] over the 16 groups of one super-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int MinDot(short* mn, short* bsums, bool simd)
    {
        if (simd && Avx2.IsSupported)
            return Vector256.Sum(Avx2.MultiplyAddAdjacent(Vector256.Load(mn), Vector256.Load(bsums)));
        if (simd)
        {
            var m0 = Vector128.Load(mn);
            var m1 = Vector128.Load(mn + 8);
            var b0 = Vector128.Load(bsums);
            var b1 = Vector128.Load(bsums + 8);
            var p = Vector128.WidenLower(m0) * Vector128.WidenLower(b0) + Vector128.WidenUpper(m0) * Vector128.WidenUpper(b0)
                  + Vector128.WidenLower(m1) * Vector128.WidenLower(b1) + Vector128.WidenUpper(m1) * Vector128.WidenUpper(b1);
            return Vector128.Sum(p);
        }
        int s = 0;
        for (int g = 0; g < 16; g++)
            s += mn[g] * bsums[g];
        return s;
    }
}

/// <summary>The scalar twin of the k-quant kernels.</summary>
internal readonly unsafe struct KQuantScalar : IKQuantIsa
{
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        byte* u = stackalloc byte[256];
        short* sc = stackalloc short[16];
        short* mn = stackalloc short[16];
        for (int c = 0; c < TC.Count; c++)
            result[c] = 0;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.UnpackScalar(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            for (int c = 0; c < TC.Count; c++)
            {
                sbyte* q = a.QsRow(col + c) + sb * 256;
                int isum = 0;
                for (int g = 0; g < 16; g++)
                {
                    int gs = 0;
                    for (int i = g * 16; i < g * 16 + 16; i++)
                        gs += (TF.Signed ? (sbyte)u[i] : u[i]) * q[i];
                    isum += sc[g] * gs;
                }
                int msum = KQuantShared.MinDot(mn, a.SumRow(col + c) + sb * 16, simd: false);
                float da = a.ScaleRow(col + c)[sb];
                result[c] += da * (d * isum - dmin * msum);
            }
        }
    }
}

/// <summary>
/// AVX-512BW: 64 elements per zmm; vpmaddubsw then vpmaddwd with the group scales (vpermw-expanded). Each
/// super-block is unpacked once and dotted with up to 8 activation rows (a batched decode step's sequences).
/// </summary>
internal readonly unsafe struct KQuantAvx512 : IKQuantIsa
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX-512 kernel serves at most 8 columns");
        byte* u = stackalloc byte[256 + 64];
        short* sc = (short*)(u + 256);
        short* mn = sc + 16;
        sbyte* q = a.QsRow(col);
        float* ds = a.ScaleRow(col);
        short* bs = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bss = a.SumStride;
        // The min term rides in the same accumulators: its 8 lanes (zero-extended to 16) are subtracted with -dmin.
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector512<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.Unpack(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            var scAll = Vector512.Create(Vector256.Load(sc), Vector256<short>.Zero);
            var mnv = Vector256.Load(mn);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            Vector512<int> i4 = default, i5 = default, i6 = default, i7 = default;
            sbyte* qb = q + sb * 256;
            for (int k = 0; k < 4; k++)
            {
                // Two 32-byte loads, matching the unpack's stores (a 64-byte load over them would stall).
                var uk = Vector512.Create(Vector256.Load(u + 64 * k), Vector256.Load(u + 64 * k + 32));
                var neg = TF.Signed ? Vector512.LessThan(uk.AsSByte(), Vector512<sbyte>.Zero) : default;
                if (TF.Signed)
                    uk = Avx512BW.Abs(uk.AsSByte()).AsByte();
                // Lane i of chunk k (64 elements, 32 shorts after vpmaddubsw) belongs to group 4k + i/8. No static
                // vectors here: a class-init check is a call, and any call in the loop makes the JIT spill every zmm.
                var idx = Vector512.ShiftRightArithmetic(Vector512<short>.Indices, 3) + Vector512.Create((short)(4 * k));
                var sv = Avx512BW.PermuteVar32x16(scAll, idx);
                sbyte* qk = qb + 64 * k;
                i0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk, neg)), sv);
                if (n > 1) i1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + qs, neg)), sv);
                if (n > 2) i2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 2 * qs, neg)), sv);
                if (n > 3) i3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 3 * qs, neg)), sv);
                if (n > 4) i4 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 4 * qs, neg)), sv);
                if (n > 5) i5 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 5 * qs, neg)), sv);
                if (n > 6) i6 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 6 * qs, neg)), sv);
                if (n > 7) i7 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Act<TF>(qk + 7 * qs, neg)), sv);
            }
            acc0 = Finish<TF>(acc0, i0, mnv, bs + sb * 16, ds[sb], d, dmin);
            if (n > 1) acc1 = Finish<TF>(acc1, i1, mnv, bs + bss + sb * 16, (ds + ss)[sb], d, dmin);
            if (n > 2) acc2 = Finish<TF>(acc2, i2, mnv, bs + 2 * bss + sb * 16, (ds + 2 * ss)[sb], d, dmin);
            if (n > 3) acc3 = Finish<TF>(acc3, i3, mnv, bs + 3 * bss + sb * 16, (ds + 3 * ss)[sb], d, dmin);
            if (n > 4) acc4 = Finish<TF>(acc4, i4, mnv, bs + 4 * bss + sb * 16, (ds + 4 * ss)[sb], d, dmin);
            if (n > 5) acc5 = Finish<TF>(acc5, i5, mnv, bs + 5 * bss + sb * 16, (ds + 5 * ss)[sb], d, dmin);
            if (n > 6) acc6 = Finish<TF>(acc6, i6, mnv, bs + 6 * bss + sb * 16, (ds + 6 * ss)[sb], d, dmin);
            if (n > 7) acc7 = Finish<TF>(acc7, i7, mnv, bs + 7 * bss + sb * 16, (ds + 7 * ss)[sb], d, dmin);
        }
        result[0] = Vector512.Sum(acc0);
        if (n > 1) result[1] = Vector512.Sum(acc1);
        if (n > 2) result[2] = Vector512.Sum(acc2);
        if (n > 3) result[3] = Vector512.Sum(acc3);
        if (n > 4) result[4] = Vector512.Sum(acc4);
        if (n > 5) result[5] = Vector512.Sum(acc5);
        if (n > 6) result[6] = Vector512.Sum(acc6);
        if (n > 7) result[7] = Vector512.Sum(acc7);
    }

    /// <summary>64 activations at <paramref name="q"/>, negated where the weight is (<paramref name="neg"/>) for the signed formats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Act<TF>(sbyte* q, Vector512<sbyte> neg) where TF : struct, IKQuantFormat
    {
        var v = Vector512.Load(q);
        return TF.Signed ? Vector512.ConditionalSelect(neg, -v, v) : v;
    }

    /// <summary>
    /// acc + d·da·isum − dmin·da·(mn·bsums pair sums), the latter in the low 8 lanes; for the shared-scale formats
    /// the min term comes off in integers, leaving one conversion and one FMA.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish<TF>(Vector512<float> acc, Vector512<int> isum, Vector256<short> mn, short* bsums, float da,
        float d, float dmin)
        where TF : struct, IKQuantFormat
    {
        var p = Avx2.MultiplyAddAdjacent(mn, Vector256.Load(bsums)).ToVector512();
        if (TF.SharedScale)
            return Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum - p), Vector512.Create(d * da), acc);
        acc = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), Vector512.Create(d * da), acc);
        return Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p), Vector512.Create(-dmin * da), acc);
    }
}

/// <summary>
/// AVX2: 32 elements per ymm; vpmaddubsw then vpmaddwd with the two group scales of the chunk. Each super-block
/// is unpacked once and dotted with up to 8 activation rows.
/// </summary>
internal readonly unsafe struct KQuantAvx2 : IKQuantIsa
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxWide)
            throw new ArgumentOutOfRangeException(nameof(TC), "the AVX2 kernel serves at most 8 columns");
        byte* u = stackalloc byte[256 + 64];
        short* sc = (short*)(u + 256);
        short* mn = sc + 16;
        sbyte* q = a.QsRow(col);
        float* ds = a.ScaleRow(col);
        short* bs = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bss = a.SumStride;
        // The min term rides in the same accumulators, scaled by -dmin.
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.Unpack(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            var mnv = Vector256.Load(mn);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            Vector256<int> i4 = default, i5 = default, i6 = default, i7 = default;
            sbyte* qb = q + sb * 256;
            for (int k = 0; k < 8; k++)
            {
                var uk = Vector256.Load(u + 32 * k);
                var sign = uk.AsSByte();
                if (TF.Signed)
                    uk = Avx2.Abs(sign);
                var sv = Vector256.Create(Vector128.Create(sc[2 * k]), Vector128.Create(sc[2 * k + 1]));
                sbyte* qk = qb + 32 * k;
                i0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk, sign)), sv);
                if (n > 1) i1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + qs, sign)), sv);
                if (n > 2) i2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 2 * qs, sign)), sv);
                if (n > 3) i3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 3 * qs, sign)), sv);
                if (n > 4) i4 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 4 * qs, sign)), sv);
                if (n > 5) i5 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 5 * qs, sign)), sv);
                if (n > 6) i6 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 6 * qs, sign)), sv);
                if (n > 7) i7 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Act<TF>(qk + 7 * qs, sign)), sv);
            }
            acc0 = Finish<TF>(acc0, i0, mnv, bs + sb * 16, ds[sb], d, dmin);
            if (n > 1) acc1 = Finish<TF>(acc1, i1, mnv, bs + bss + sb * 16, (ds + ss)[sb], d, dmin);
            if (n > 2) acc2 = Finish<TF>(acc2, i2, mnv, bs + 2 * bss + sb * 16, (ds + 2 * ss)[sb], d, dmin);
            if (n > 3) acc3 = Finish<TF>(acc3, i3, mnv, bs + 3 * bss + sb * 16, (ds + 3 * ss)[sb], d, dmin);
            if (n > 4) acc4 = Finish<TF>(acc4, i4, mnv, bs + 4 * bss + sb * 16, (ds + 4 * ss)[sb], d, dmin);
            if (n > 5) acc5 = Finish<TF>(acc5, i5, mnv, bs + 5 * bss + sb * 16, (ds + 5 * ss)[sb], d, dmin);
            if (n > 6) acc6 = Finish<TF>(acc6, i6, mnv, bs + 6 * bss + sb * 16, (ds + 6 * ss)[sb], d, dmin);
            if (n > 7) acc7 = Finish<TF>(acc7, i7, mnv, bs + 7 * bss + sb * 16, (ds + 7 * ss)[sb], d, dmin);
        }
        result[0] = Vector256.Sum(acc0);
        if (n > 1) result[1] = Vector256.Sum(acc1);
        if (n > 2) result[2] = Vector256.Sum(acc2);
        if (n > 3) result[3] = Vector256.Sum(acc3);
        if (n > 4) result[4] = Vector256.Sum(acc4);
        if (n > 5) result[5] = Vector256.Sum(acc5);
        if (n > 6) result[6] = Vector256.Sum(acc6);
        if (n > 7) result[7] = Vector256.Sum(acc7);
    }

    /// <summary>32 activations at <paramref name="q"/>, with the weight's sign moved onto them for the signed formats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Act<TF>(sbyte* q, Vector256<sbyte> sign) where TF : struct, IKQuantFormat
    {
        var v = Vector256.Load(q);
        return TF.Signed ? Avx2.Sign(v, sign) : v;
    }

    /// <summary>acc + d·da·isum − dmin·da·(mn·bsums pair sums); in integers for the shared-scale formats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish<TF>(Vector256<float> acc, Vector256<int> isum, Vector256<short> mn, short* bsums, float da,
        float d, float dmin)
        where TF : struct, IKQuantFormat
    {
        var p = Avx2.MultiplyAddAdjacent(mn, Vector256.Load(bsums));
        if (TF.SharedScale)
            return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(isum - p), Vector256.Create(d * da), acc);
        acc = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(d * da), acc);
        return Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(-dmin * da), acc);
    }
}

/// <summary>Portable 128-bit: 16 elements (one scale group) per step.</summary>
internal readonly unsafe struct KQuantVector128 : IKQuantIsa
{
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > ColTile.MaxVector128)
            throw new ArgumentOutOfRangeException(nameof(TC), "the 128-bit kernel serves at most 4 columns");
        byte* u = stackalloc byte[256 + 64];
        short* sc = (short*)(u + 256);
        short* mn = sc + 16;
        Vector128<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.Unpack(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            Vector128<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int qo = sb * 256;
            for (int g = 0; g < 16; g++)
            {
                var ug = Vector128.Load(u + 16 * g);
                var sv = Vector128.Create((int)sc[g]);
                int o = qo + 16 * g;
                i0 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col) + o), TF.Signed) * sv;
                if (n > 1) i1 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 1) + o), TF.Signed) * sv;
                if (n > 2) i2 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 2) + o), TF.Signed) * sv;
                if (n > 3) i3 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 3) + o), TF.Signed) * sv;
            }
            acc0 = Finish(acc0, i0, d * a.ScaleRow(col)[sb]); r0 -= KQuantShared.MinTerm(a, col, sb, dmin, mn);
            if (n > 1) { acc1 = Finish(acc1, i1, d * a.ScaleRow(col + 1)[sb]); r1 -= KQuantShared.MinTerm(a, col + 1, sb, dmin, mn); }
            if (n > 2) { acc2 = Finish(acc2, i2, d * a.ScaleRow(col + 2)[sb]); r2 -= KQuantShared.MinTerm(a, col + 2, sb, dmin, mn); }
            if (n > 3) { acc3 = Finish(acc3, i3, d * a.ScaleRow(col + 3)[sb]); r3 -= KQuantShared.MinTerm(a, col + 3, sb, dmin, mn); }
        }
        result[0] = Vector128.Sum(acc0) + r0;
        if (n > 1) result[1] = Vector128.Sum(acc1) + r1;
        if (n > 2) result[2] = Vector128.Sum(acc2) + r2;
        if (n > 3) result[3] = Vector128.Sum(acc3) + r3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Finish(Vector128<float> acc, Vector128<int> isum, float scale) =>
        acc + Vector128.ConvertToSingle(isum) * Vector128.Create(scale);
}
