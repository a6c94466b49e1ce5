using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Kernel over <see cref="IQ4_XSx16"/> groups: 16 weight rows against TC (up to 4) Q8_K activation rows, lane i = row i.
/// Per sub-block of 32 and 8-row half: four 32-byte nibble loads looked up (vpshufb) into the levels + 128 (1..241),
/// unpacked once for all columns; per column 8 four-byte activation broadcasts dotted by vpdpbusd, exact in int32:
/// S_j = Σ(kv + 128)·q = Σkv·q + 128·B_j, with B_j the activation sum of the sub-block (Q8_K bsums). Then in int32
/// Σ_j (ls_j − 32)·(S_j − 128·B_j), the 6-bit scales of all 16 rows unpacked lane-wise from words 0 and 1, and per
/// super-block in f32 acc += d·da·Σ: ggml's ggml_vec_dot_iq4_xs_q8_K for 16 rows at once.
/// </summary>
internal static unsafe class IQ4_XSx16Avx512
{
    public const int MaxCols = 4;

    /// <summary>Software prefetch distance: four units (8.5 KB), as for <see cref="Q4_Kx16Avx512"/>.</summary>
    private const int Ahead = 4 * IQ4_XSx16.UnitBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nsb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the IQ4_XSx16 kernel serves at most 4 columns");
        sbyte* q = a.QsRow(col);
        float* da = a.ScaleRow(col);
        short* bsums = a.SumRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride, bs = a.SumStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var table = Vector256.Create(IQ4Levels.OffsetTable());
        for (int s = 0; s < nsb; s++)
        {
            byte* unit = group + (nint)s * IQ4_XSx16.UnitBytes;
            Sse.Prefetch0(unit + Ahead);
            Sse.Prefetch0(unit + Ahead + 64);
            var w0 = Vector512.Load((uint*)unit);
            var w1 = Vector512.Load((uint*)(unit + 64));
            Vector512<int> t0 = default, t1 = default, t2 = default, t3 = default;
            byte* w = unit + 128;
            sbyte* qsb = q + (nint)s * 256;
            short* b = bsums + s * 16;
            for (int j = 0; j < 8; j++)
            {
                var sc = ((((w1 >> (4 * j)) & Vector512.Create(0xFu)) | (((w0 >> (16 + 2 * j)) & Vector512.Create(3u)) << 4)).AsInt32())
                         - Vector512.Create(32);
                byte* wj = w + 256 * j;
                Sse.Prefetch0(wj + Ahead);
                Sse.Prefetch0(wj + Ahead + 64);
                Sse.Prefetch0(wj + Ahead + 128);
                Sse.Prefetch0(wj + Ahead + 192);
                Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default;
                Vector256<int> i2l = default, i2h = default, i3l = default, i3h = default;
                sbyte* qj = qsb + 32 * j;
                for (int c = 0; c < 4; c++)
                {
                    IQ4_NLx16Avx512.Levels(wj + 64 * c, table, out var lo, out var hi);
                    IQ4_NLx16Avx512.Levels(wj + 64 * c + 32, table, out var lo8, out var hi8);
                    Dots(qj + 4 * c, lo, hi, lo8, hi8, ref i0l, ref i0h);
                    if (n > 1) Dots(qj + qs + 4 * c, lo, hi, lo8, hi8, ref i1l, ref i1h);
                    if (n > 2) Dots(qj + 2 * qs + 4 * c, lo, hi, lo8, hi8, ref i2l, ref i2h);
                    if (n > 3) Dots(qj + 3 * qs + 4 * c, lo, hi, lo8, hi8, ref i3l, ref i3h);
                }
                t0 += Scaled(i0l, i0h, sc, b + 2 * j);
                if (n > 1) t1 += Scaled(i1l, i1h, sc, b + bs + 2 * j);
                if (n > 2) t2 += Scaled(i2l, i2h, sc, b + 2 * bs + 2 * j);
                if (n > 3) t3 += Scaled(i3l, i3h, sc, b + 3 * bs + 2 * j);
            }
            var d = HalfToSingle(w0 & Vector512.Create(0xFFFFu));
            acc0 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t0), d * Vector512.Create(da[s]), acc0);
            if (n > 1) acc1 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t1), d * Vector512.Create(da[ss + s]), acc1);
            if (n > 2) acc2 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t2), d * Vector512.Create(da[2 * ss + s]), acc2);
            if (n > 3) acc3 = Vector512.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(t3), d * Vector512.Create(da[3 * ss + s]), acc3);
        }
        acc0.Store(y);
        if (n > 1) acc1.Store(y + yStride);
        if (n > 2) acc2.Store(y + 2 * yStride);
        if (n > 3) acc3.Store(y + 3 * yStride);
    }

    /// <summary>One column's chunk: low nibbles against activations q..q+3, high against q+16..q+19, rows 0..7 and 8..15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots(sbyte* q, Vector256<byte> lo, Vector256<byte> hi, Vector256<byte> lo8, Vector256<byte> hi8,
        ref Vector256<int> il, ref Vector256<int> ih)
    {
        var al = Vector256.Create(*(int*)q).AsSByte();
        var ah = Vector256.Create(*(int*)(q + 16)).AsSByte();
        il = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(il, lo, al), hi, ah);
        ih = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(ih, lo8, al), hi8, ah);
    }

    /// <summary>(ls − 32)·(S − 128·B) per row, B = the two 16-sums of the sub-block's activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Scaled(Vector256<int> lo, Vector256<int> hi, Vector512<int> sc, short* b) =>
        (Vector512.Create(lo, hi) - Vector512.Create((b[0] + b[1]) << 7)) * sc;
}

/// <summary>IQ4_XS rows in <see cref="IQ4_XSx16"/> groups, multiplied by <see cref="IQ4_XSx16Avx512"/>.</summary>
internal readonly unsafe struct IQ4_XSx16Kernel : IPackedKernel
{
    public static bool IsSupported => IQ4_NLx16Avx512.IsSupported;

    public static bool UnsignedActivations => false;

    public static int MaxCols => IQ4_XSx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => IQ4_XSx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => IQ4_XSx16Avx512.Dot<TC>(group, cols / 256, a, col, y, yStride);
}
