using System.Diagnostics;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// A repacked layout's kernel as <see cref="MatMulJob"/>'s tiling loop calls it: one 16-row group against up to
/// <see cref="MaxCols"/> activation rows. A type parameter, so the loop is compiled once per layout with the call inlined.
/// Every layout serves the AVX-512 path only (the other paths read the original blocks).
/// </summary>
internal unsafe interface IPackedKernel
{
    /// <summary>Whether this CPU has what the kernel needs beyond AVX-512BW (Q8_0x16: VNNI).</summary>
    static abstract bool IsSupported { get; }

    /// <summary>True when the kernel reads the activation quants as unsigned bytes q + 128 (a copy made per multiply).</summary>
    static abstract bool UnsignedActivations { get; }

    static abstract int MaxCols { get; }

    /// <summary>
    /// What the Q8_0-form activation sums (s = da·Σq / 8) come multiplied by for this kernel, 0 for nothing, where the
    /// format's own offset does not already say (<see cref="Block32Avx512.PreScaledOffset{TF}"/>): a multiply per
    /// column and block saved. Only the AVX-512 path pre-scales, and the signed formats' row kernels never read s.
    /// </summary>
    static virtual float SumPreScale => 0;

    /// <summary>Bytes of one 16-row group of a matrix with <paramref name="cols"/> columns.</summary>
    static abstract long GroupBytes(int cols);

    /// <summary>
    /// Columns col .. col + TC - 1 of <paramref name="a"/> against <paramref name="group"/>; <paramref name="offsetQs"/>
    /// is the activation copy as unsigned bytes (Q8_0x16 only). Results of column c go to y[c · yStride .. + 16).
    /// </summary>
    static abstract void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols;
}

/// <summary>The layout of a weight type that has none: never supported, so its kernel is never called.</summary>
internal readonly unsafe struct NotRepacked : IPackedKernel
{
    public static bool IsSupported => false;

    public static bool UnsignedActivations => false;

    public static int MaxCols => 1;

    public static long GroupBytes(int cols) => 0;

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => throw new UnreachableException("a weight type without a repacked layout has no packed rows");
}

internal readonly unsafe struct Q4_0x16Kernel : IPackedKernel
{
    public static bool IsSupported => true;

    public static bool UnsignedActivations => false;

    public static int MaxCols => ColTile.MaxWide;

    public static long GroupBytes(int cols) => Q4_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q4_0x16Avx512.Dot<TC>(group, cols / 32, a, col, y, yStride);
}

internal readonly unsafe struct Q4_Kx16Kernel : IPackedKernel
{
    public static bool IsSupported => true;

    public static bool UnsignedActivations => false;

    public static int MaxCols => Q4_Kx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q4_Kx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q4_Kx16Avx512.Dot<TC>(group, cols / 256, a, col, y, yStride);
}

/// <summary>
/// One column at a time (the output projection, this layout's main user, sees one or a few), so the tiling loop walks
/// every column per group (<see cref="MaxCols"/> = 1).
/// </summary>
internal readonly unsafe struct Q6_Kx16Kernel : IPackedKernel
{
    public static bool IsSupported => true;

    public static bool UnsignedActivations => false;

    public static int MaxCols => 1;

    public static long GroupBytes(int cols) => Q6_Kx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q6_Kx16Avx512.Dot(group, cols / 256, a, col, y);
}

/// <summary>Q8_0 rows, and Q5_0 rows widened to 8 bits at load (<see cref="Q8_0x16.RepackQ5_0"/>).</summary>
internal readonly unsafe struct Q8_0x16Kernel : IPackedKernel
{
    public static bool IsSupported => Q8_0x16.IsSupported;

    public static bool UnsignedActivations => true;

    public static int MaxCols => Q8_0x16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q8_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q8_0x16Avx512.Dot<TC>(group, cols / 32, offsetQs, a.QsStride, a, col, y, yStride);
}

/// <summary>
/// F16 rows in 16-row element-major groups (<see cref="F16x16"/>). Their kernel takes the f32 activations, so
/// <see cref="MatMulJob"/> runs it through its own loop (F16Rows: one widening per group for prefill, four groups at
/// once for decode) rather than through <see cref="Dot{TC}"/>, which serves quantized activations.
/// </summary>
internal readonly unsafe struct F16x16Kernel : IPackedKernel
{
    public static bool IsSupported => true; // needs AVX-512F only, which the AVX-512 path it serves implies

    public static bool UnsignedActivations => false;

    public static int MaxCols => F16x16.MaxCols;

    public static long GroupBytes(int cols) => F16x16.GroupBytes(cols);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => throw new UnreachableException("F16x16 groups are multiplied by MatMulJob.F16Rows, with f32 activations");
}
