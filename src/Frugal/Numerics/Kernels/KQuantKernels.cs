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
                        gs += u[i] * q[i];
                    isum += sc[g] * gs;
                }
                int msum = KQuantShared.MinDot(mn, a.SumRow(col + c) + sb * 16, simd: false);
                float da = a.ScaleRow(col + c)[sb];
                result[c] += da * (d * isum - dmin * msum);
            }
        }
    }
}

/// <summary>AVX-512BW: 64 elements per zmm; vpmaddubsw then vpmaddwd with the group scales (vpermw-expanded).</summary>
internal readonly unsafe struct KQuantAvx512 : IKQuantIsa
{
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
        byte* u = stackalloc byte[256 + 64];
        short* sc = (short*)(u + 256);
        short* mn = sc + 16;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        // Min terms stay in vectors too (one vpmaddwd + FMA per super-block, no horizontal sum until the end).
        Vector256<float> r0 = default, r1 = default, r2 = default, r3 = default;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.Unpack(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            var scAll = Vector512.Create(Vector256.Load(sc), Vector256<short>.Zero);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int qo = sb * 256;
            for (int k = 0; k < 4; k++)
            {
                // Two 32-byte loads, matching the unpack's stores (a 64-byte load over them would stall).
                var uk = Vector512.Create(Vector256.Load(u + 64 * k), Vector256.Load(u + 64 * k + 32));
                // Lane i of chunk k (64 elements, 32 shorts after vpmaddubsw) belongs to group 4k + i/8. No static
                // vectors here: a class-init check is a call, and any call in the loop makes the JIT spill every zmm.
                var idx = Vector512.ShiftRightArithmetic(Vector512<short>.Indices, 3) + Vector512.Create((short)(4 * k));
                var sv = Avx512BW.PermuteVar32x16(scAll, idx);
                int o = qo + 64 * k;
                i0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Vector512.Load(a.QsRow(col) + o)), sv);
                if (n > 1) i1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Vector512.Load(a.QsRow(col + 1) + o)), sv);
                if (n > 2) i2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Vector512.Load(a.QsRow(col + 2) + o)), sv);
                if (n > 3) i3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(uk, Vector512.Load(a.QsRow(col + 3) + o)), sv);
            }
            acc0 = Finish(acc0, i0, d * a.ScaleRow(col)[sb]); r0 = KQuantShared.MinVector(r0, a, col, sb, dmin, mn);
            if (n > 1) { acc1 = Finish(acc1, i1, d * a.ScaleRow(col + 1)[sb]); r1 = KQuantShared.MinVector(r1, a, col + 1, sb, dmin, mn); }
            if (n > 2) { acc2 = Finish(acc2, i2, d * a.ScaleRow(col + 2)[sb]); r2 = KQuantShared.MinVector(r2, a, col + 2, sb, dmin, mn); }
            if (n > 3) { acc3 = Finish(acc3, i3, d * a.ScaleRow(col + 3)[sb]); r3 = KQuantShared.MinVector(r3, a, col + 3, sb, dmin, mn); }
        }
        result[0] = Vector512.Sum(acc0) - Vector256.Sum(r0);
        if (n > 1) result[1] = Vector512.Sum(acc1) - Vector256.Sum(r1);
        if (n > 2) result[2] = Vector512.Sum(acc2) - Vector256.Sum(r2);
        if (n > 3) result[3] = Vector512.Sum(acc3) - Vector256.Sum(r3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> acc, Vector512<int> isum, float scale) =>
        Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), Vector512.Create(scale), acc);
}

/// <summary>AVX2: 32 elements per ymm; vpmaddubsw then vpmaddwd with the two group scales of the chunk.</summary>
internal readonly unsafe struct KQuantAvx2 : IKQuantIsa
{
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
        byte* u = stackalloc byte[256 + 64];
        short* sc = (short*)(u + 256);
        short* mn = sc + 16;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        // Min terms stay in vectors too (one vpmaddwd + FMA per super-block, no horizontal sum until the end).
        Vector256<float> r0 = default, r1 = default, r2 = default, r3 = default;
        for (int sb = 0; sb < nsb; sb++)
        {
            TF.Unpack(w + (nint)sb * TF.Bytes, u, sc, mn, out float d, out float dmin);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            int qo = sb * 256;
            for (int k = 0; k < 8; k++)
            {
                var uk = Vector256.Load(u + 32 * k);
                var sv = Vector256.Create(Vector128.Create(sc[2 * k]), Vector128.Create(sc[2 * k + 1]));
                int o = qo + 32 * k;
                i0 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Vector256.Load(a.QsRow(col) + o)), sv);
                if (n > 1) i1 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Vector256.Load(a.QsRow(col + 1) + o)), sv);
                if (n > 2) i2 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Vector256.Load(a.QsRow(col + 2) + o)), sv);
                if (n > 3) i3 += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(uk, Vector256.Load(a.QsRow(col + 3) + o)), sv);
            }
            acc0 = Finish(acc0, i0, d * a.ScaleRow(col)[sb]); r0 = KQuantShared.MinVector(r0, a, col, sb, dmin, mn);
            if (n > 1) { acc1 = Finish(acc1, i1, d * a.ScaleRow(col + 1)[sb]); r1 = KQuantShared.MinVector(r1, a, col + 1, sb, dmin, mn); }
            if (n > 2) { acc2 = Finish(acc2, i2, d * a.ScaleRow(col + 2)[sb]); r2 = KQuantShared.MinVector(r2, a, col + 2, sb, dmin, mn); }
            if (n > 3) { acc3 = Finish(acc3, i3, d * a.ScaleRow(col + 3)[sb]); r3 = KQuantShared.MinVector(r3, a, col + 3, sb, dmin, mn); }
        }
        result[0] = Vector256.Sum(acc0) - Vector256.Sum(r0);
        if (n > 1) result[1] = Vector256.Sum(acc1) - Vector256.Sum(r1);
        if (n > 2) result[2] = Vector256.Sum(acc2) - Vector256.Sum(r2);
        if (n > 3) result[3] = Vector256.Sum(acc3) - Vector256.Sum(r3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Finish(Vector256<float> acc, Vector256<int> isum, float scale) =>
        Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(scale), acc);
}

/// <summary>Portable 128-bit: 16 elements (one scale group) per step.</summary>
internal readonly unsafe struct KQuantVector128 : IKQuantIsa
{
    public static void Dot<TF, TC>(byte* w, int nsb, in QuantizedRows a, int col, float* result)
        where TF : struct, IKQuantFormat
        where TC : struct, ICols
    {
        int n = TC.Count;
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
                i0 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col) + o), false) * sv;
                if (n > 1) i1 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 1) + o), false) * sv;
                if (n > 2) i2 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 2) + o), false) * sv;
                if (n > 3) i3 += Block32Vector128.Dot16(ug, Vector128.Load(a.QsRow(col + 3) + o), false) * sv;
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
