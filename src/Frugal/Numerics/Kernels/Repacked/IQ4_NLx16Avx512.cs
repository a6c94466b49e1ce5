using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// IQ4_NL rows repacked at load into the <see cref="Q4_0x16"/> layout (the two formats share the 18-byte block: fp16 d,
/// then 16 nibble bytes, so the repack is Q4_0's, bytes moved, not changed) and the kernel over it: 16 weight rows
/// against TC (up to 4) Q8_0 activation rows, lane i = row i. Per block and 8-row half: four 32-byte nibble loads split
/// and looked up (vpshufb) into the levels plus 128, kv + 128 in 1..241, unpacked once for all columns; per column 8
/// four-byte activation broadcasts dotted by vpdpbusd (unsigned level × signed activation, exact in int32: the levels
/// are too wide for vpmaddubsw's int16 pair sums). Σ(kv + 128)·q = Σkv·q + 128·Σq, so per block in f32
/// acc += dw · (da · S − 128 · da·Σq), the last term from the Q8_0 form's block sums (s = da·Σq / 8).
/// </summary>
internal static unsafe class IQ4_NLx16Avx512
{
    /// <summary>Four columns keep the VEX-encoded dot's operands (two int32 sums per column) in ymm0..15.</summary>
    public const int MaxCols = 4;

    /// <summary>Whether this CPU runs the kernel: 256-bit VNNI (vpdpbusd) besides AVX-512.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512BW.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the IQ4_NLx16 kernel serves at most 4 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var table = Vector256.Create(IQ4Levels.OffsetTable());
        for (int b = 0; b < nb; b++)
        {
            byte* unit = group + (nint)(b >> 1) * Q4_0x16.PairBytes;
            int h = b & 1;
            byte* ahead = unit + 4 * Q4_0x16.PairBytes + h * 320;
            Sse.Prefetch0(ahead);
            Sse.Prefetch0(ahead + 64);
            Sse.Prefetch0(ahead + 128);
            Sse.Prefetch0(ahead + 192);
            Sse.Prefetch0(ahead + 256);
            var dw = HalfToSingle(Vector256.Load((ushort*)(unit + h * 32)));
            byte* w = unit + 64 + h * 256;
            sbyte* qb = q + (nint)b * 32;
            Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default;
            Vector256<int> i2l = default, i2h = default, i3l = default, i3h = default;
            for (int c = 0; c < 4; c++)
            {
                Levels(w + 64 * c, table, out var lo, out var hi);
                Levels(w + 64 * c + 32, table, out var lo8, out var hi8);
                Chunk<TC>(qb + 4 * c, qs, lo, hi, lo8, hi8, ref i0l, ref i0h, ref i1l, ref i1h, ref i2l, ref i2h, ref i3l, ref i3h);
            }
            nint so = (b >> 1) * 4 + h;
            acc0 = Column(acc0, i0l, i0h, dw, s + so);
            if (n > 1) acc1 = Column(acc1, i1l, i1h, dw, s + ss + so);
            if (n > 2) acc2 = Column(acc2, i2l, i2h, dw, s + 2 * ss + so);
            if (n > 3) acc3 = Column(acc3, i3l, i3h, dw, s + 3 * ss + so);
        }
        acc0.Store(y);
        if (n > 1) acc1.Store(y + yStride);
        if (n > 2) acc2.Store(y + 2 * yStride);
        if (n > 3) acc3.Store(y + 3 * yStride);
    }

    /// <summary>32 nibble bytes (4 of each of 8 rows) as the levels + 128 of their low and high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Levels(byte* p, Vector256<byte> table, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        var v = Vector256.Load(p);
        var m = Vector256.Create((byte)0x0F);
        lo = Avx2.Shuffle(table, v & m);
        hi = Avx2.Shuffle(table, Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);
    }

    /// <summary>
    /// One chunk (elements 4c..4c+3 in the low nibbles, 16+4c.. in the high ones) of rows 0..7 (<paramref name="lo"/>,
    /// <paramref name="hi"/>) and 8..15 against each column's activations at <paramref name="q"/> and q + 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chunk<TC>(sbyte* q, nint qs, Vector256<byte> lo, Vector256<byte> hi, Vector256<byte> lo8, Vector256<byte> hi8,
        ref Vector256<int> i0l, ref Vector256<int> i0h, ref Vector256<int> i1l, ref Vector256<int> i1h,
        ref Vector256<int> i2l, ref Vector256<int> i2h, ref Vector256<int> i3l, ref Vector256<int> i3h) where TC : struct, ICols
    {
        int n = TC.Count;
        Dots(q, lo, hi, lo8, hi8, ref i0l, ref i0h);
        if (n > 1) Dots(q + qs, lo, hi, lo8, hi8, ref i1l, ref i1h);
        if (n > 2) Dots(q + 2 * qs, lo, hi, lo8, hi8, ref i2l, ref i2h);
        if (n > 3) Dots(q + 3 * qs, lo, hi, lo8, hi8, ref i3l, ref i3h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dots(sbyte* q, Vector256<byte> lo, Vector256<byte> hi, Vector256<byte> lo8, Vector256<byte> hi8,
        ref Vector256<int> il, ref Vector256<int> ih)
    {
        var al = Vector256.Create(*(int*)q).AsSByte();
        var ah = Vector256.Create(*(int*)(q + 16)).AsSByte();
        il = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(il, lo, al), hi, ah);
        ih = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(ih, lo8, al), hi8, ah);
    }

    /// <summary>acc + dw · (da · S − 128 · da·Σq), lanes = rows; <paramref name="s"/>[0] = da, s[2] = da·Σq / 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column(Vector512<float> acc, Vector256<int> lo, Vector256<int> hi, Vector512<float> dw, float* s)
    {
        var f = Avx512F.ConvertToVector512Single(Vector512.Create(lo, hi));
        return Vector512.FusedMultiplyAdd(dw, Vector512.FusedMultiplyAdd(f, Vector512.Create(s[0]), Vector512.Create(s[2] * -1024f)), acc);
    }
}

/// <summary>IQ4_NL rows in the <see cref="Q4_0x16"/> layout, multiplied by <see cref="IQ4_NLx16Avx512"/>.</summary>
internal readonly unsafe struct IQ4_NLx16Kernel : IPackedKernel
{
    public static bool IsSupported => IQ4_NLx16Avx512.IsSupported;

    public static bool UnsignedActivations => false;

    public static int MaxCols => IQ4_NLx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q4_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => IQ4_NLx16Avx512.Dot<TC>(group, cols / 32, a, col, y, yStride);
}
