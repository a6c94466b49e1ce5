using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static Frugal.Numerics.Kernels.RowInterleave;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// IQ4_NL rows repacked at load into the <see cref="Q4_0x16"/> layout (the two formats share the 18-byte block: fp16 d,
/// then 16 nibble bytes, so the repack is Q4_0's, bytes moved, not changed) and the kernel over it: 16 weight rows
/// against TC (up to 8) Q8_0 activation rows, lane i = row i. Per block: eight 32-byte nibble loads (4 chunks × rows
/// 0..7 and 8..15) split and looked up (vpermb) into the levels plus 128, kv + 128 in 1..241, unpacked once for all
/// columns; per column 8 four-byte activation broadcasts, each dotted with both row halves by 256-bit vpdpbusd
/// (unsigned level × signed activation, exact in int32: the levels are too wide for vpmaddubsw's int16 pair sums, and
/// .NET 10 exposes VNNI at 256 bits only). Σ(kv + 128)·q = Σkv·q + 128·Σq, so per block in f32
/// y += dw · (da · S − 128 · da·Σq), the last term from the Q8_0 form's block sums (s = da·Σq / 8).
/// <para>
/// Eight columns rather than four: the lookups are the cost IQ4 adds per weight over Q8_0's kernel, so each unpacked
/// block serves twice the columns. The 16 int32 chains (8 columns × 2 halves) and the level vectors take most of the
/// vector registers, so the running f32 sums live in y (a load, an FMA and a store per block and column) rather than
/// in 8 more registers. One half at a time (8 chains) was tried: twice the activation broadcasts, 15 % slower.
/// </para>
/// <para>
/// Registers: the JIT gives each AvxVnni vpdpbusd's accumulator one of ymm0..ymm15 only (its sources it takes from
/// ymm16..31 too), so the 16 chains need all sixteen. A hoisted lookup table took ymm0 and pushed a chain to ymm16,
/// copied in and out around every vpdpbusd pair, and Vector512.Create(lo, hi) merged into the last block's sums,
/// keeping 8 more vectors live (spilled): 72 moves and spills per block. So the table is read from memory (one copy
/// per chunk, which the JIT cannot hoist) and the halves are joined by WithUpper: 5-8 % faster at the model's shapes.
/// </para>
/// </summary>
internal static unsafe class IQ4_NLx16Avx512
{
    public const int MaxCols = ColTile.MaxWide;

    /// <summary>Whether this CPU runs the kernel: 256-bit VNNI (vpdpbusd) and VBMI (vpermb) besides AVX-512.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512BW.IsSupported && Avx512Vbmi.VL.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot<TC>(byte* group, int nb, in QuantizedRows a, int col, float* y, nint yStride) where TC : struct, ICols
    {
        int n = TC.Count;
        if (n > MaxCols)
            throw new ArgumentOutOfRangeException(nameof(TC), "the IQ4_NLx16 kernel serves at most 8 columns");
        sbyte* q = a.QsRow(col);
        float* s = a.ScaleRow(col);
        nint qs = a.QsStride, ss = a.ScaleStride;
        for (int j = 0; j < n; j++)
            Vector512<float>.Zero.Store(y + j * yStride);
        byte* table = stackalloc byte[128]; // one copy per chunk, read from memory: see IQ4_NLx16Avx512's Registers
        for (int c = 0; c < 4; c++)
            Vector256.Create(IQ4Levels.OffsetTable()).Store(table + 32 * c);
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
            Block<TC>(unit + 64 + h * 256, q + (nint)b * 32, qs, table, out var s0, out var s1, out var s2, out var s3,
                out var s4, out var s5, out var s6, out var s7);
            var dw = HalfToSingle(Vector256.Load((ushort*)(unit + h * 32)));
            float* sb = s + (b >> 1) * 4 + h;
            Column(y, dw, sb, s0);
            if (n > 1) Column(y + yStride, dw, sb + ss, s1);
            if (n > 2) Column(y + 2 * yStride, dw, sb + 2 * ss, s2);
            if (n > 3) Column(y + 3 * yStride, dw, sb + 3 * ss, s3);
            if (n > 4) Column(y + 4 * yStride, dw, sb + 4 * ss, s4);
            if (n > 5) Column(y + 5 * yStride, dw, sb + 5 * ss, s5);
            if (n > 6) Column(y + 6 * yStride, dw, sb + 6 * ss, s6);
            if (n > 7) Column(y + 7 * yStride, dw, sb + 7 * ss, s7);
        }
    }

    /// <summary>
    /// One 32-element block of the 16 rows at <paramref name="w"/> (chunk c at w + 64c: 4 nibble bytes of each row; low
    /// nibbles are elements 4c..4c+3, high ones 16+4c..) against each column's activations at <paramref name="q"/> +
    /// j·<paramref name="qs"/>: per column the 16 int32 sums Σ(kv + 128)·q, lane i = row i.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block<TC>(byte* w, sbyte* q, nint qs, byte* table,
        out Vector512<int> s0, out Vector512<int> s1, out Vector512<int> s2, out Vector512<int> s3,
        out Vector512<int> s4, out Vector512<int> s5, out Vector512<int> s6, out Vector512<int> s7) where TC : struct, ICols
    {
        int n = TC.Count;
        Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default, i2l = default, i2h = default, i3l = default, i3h = default;
        Vector256<int> i4l = default, i4h = default, i5l = default, i5h = default, i6l = default, i6h = default, i7l = default, i7h = default;
        for (int c = 0; c < 4; c++)
        {
            Levels(w + 64 * c, table + 32 * c, out var lo, out var hi);
            Levels(w + 64 * c + 32, table + 32 * c, out var lo8, out var hi8);
            sbyte* qc = q + 4 * c;
            Dots(qc, lo, hi, lo8, hi8, ref i0l, ref i0h);
            if (n > 1) Dots(qc + qs, lo, hi, lo8, hi8, ref i1l, ref i1h);
            if (n > 2) Dots(qc + 2 * qs, lo, hi, lo8, hi8, ref i2l, ref i2h);
            if (n > 3) Dots(qc + 3 * qs, lo, hi, lo8, hi8, ref i3l, ref i3h);
            if (n > 4) Dots(qc + 4 * qs, lo, hi, lo8, hi8, ref i4l, ref i4h);
            if (n > 5) Dots(qc + 5 * qs, lo, hi, lo8, hi8, ref i5l, ref i5h);
            if (n > 6) Dots(qc + 6 * qs, lo, hi, lo8, hi8, ref i6l, ref i6h);
            if (n > 7) Dots(qc + 7 * qs, lo, hi, lo8, hi8, ref i7l, ref i7h);
        }
        s0 = i0l.ToVector512Unsafe().WithUpper(i0h);
        s1 = i1l.ToVector512Unsafe().WithUpper(i1h);
        s2 = i2l.ToVector512Unsafe().WithUpper(i2h);
        s3 = i3l.ToVector512Unsafe().WithUpper(i3h);
        s4 = i4l.ToVector512Unsafe().WithUpper(i4h);
        s5 = i5l.ToVector512Unsafe().WithUpper(i5h);
        s6 = i6l.ToVector512Unsafe().WithUpper(i6h);
        s7 = i7l.ToVector512Unsafe().WithUpper(i7h);
    }

    /// <summary>
    /// y[0..16) += dw · (da · S − 128 · da·Σq), lanes = rows; <paramref name="s"/>[0] = da, s[2] = −128·da·Σq (the Q8_0
    /// form's da·Σq / 8 pre-scaled by <see cref="IQ4_NLx16Kernel.SumPreScale"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column(float* y, Vector512<float> dw, float* s, Vector512<int> sum)
    {
        var f = Avx512F.ConvertToVector512Single(sum);
        Vector512.FusedMultiplyAdd(dw, Vector512.FusedMultiplyAdd(f, Vector512.Create(s[0]), Vector512.Create(s[2])), Vector512.Load(y))
            .Store(y);
    }

    /// <summary>
    /// 32 nibble bytes (4 of each of 8 rows) as the levels + 128 of their low and high nibbles. vpermb reads only the low
    /// five bits of each index and <paramref name="table"/> holds the 16 levels twice, so neither nibble needs masking:
    /// three operations per 32 bytes where vpshufb needs five (the lookups are the cost IQ4 adds to Q4_0's kernel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Levels(byte* p, byte* table, out Vector256<byte> lo, out Vector256<byte> hi)
    {
        var v = Vector256.Load(p);
        lo = Avx512Vbmi.VL.PermuteVar32x8(Vector256.Load(table), v);
        hi = Avx512Vbmi.VL.PermuteVar32x8(Vector256.Load(table), Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte());
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
}

/// <summary>IQ4_NL rows in the <see cref="Q4_0x16"/> layout, multiplied by <see cref="IQ4_NLx16Avx512"/>.</summary>
internal readonly unsafe struct IQ4_NLx16Kernel : IPackedKernel
{
    public static bool IsSupported => IQ4_NLx16Avx512.IsSupported;

    public static bool UnsignedActivations => false;

    public static int MaxCols => IQ4_NLx16Avx512.MaxCols;

    /// <summary>The kernel's −128·da·Σq from the Q8_0 form's da·Σq / 8.</summary>
    public static float SumPreScale => -1024;

    public static long GroupBytes(int cols) => Q4_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => IQ4_NLx16Avx512.Dot<TC>(group, cols / 32, a, col, y, yStride);
}
