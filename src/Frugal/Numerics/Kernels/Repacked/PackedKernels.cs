namespace Frugal.Numerics.Kernels;

/// <summary>
/// A repacked layout's kernel as <see cref="MatMulJob"/>'s tiling loop calls it: one 16-row group against up to
/// <see cref="MaxCols"/> activation rows. A type parameter, so the loop is compiled once per layout with the call inlined.
/// </summary>
internal unsafe interface IPackedKernel
{
    static abstract int MaxCols { get; }

    /// <summary>Bytes of one 16-row group of a matrix with <paramref name="cols"/> columns.</summary>
    static abstract long GroupBytes(int cols);

    /// <summary>
    /// Columns col .. col + TC - 1 of <paramref name="a"/> against <paramref name="group"/>; <paramref name="offsetQs"/>
    /// is the activation copy as unsigned bytes (Q8_0x16 only). Results of column c go to y[c · yStride .. + 16).
    /// </summary>
    static abstract void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols;
}

internal readonly unsafe struct Q4_0x16Kernel : IPackedKernel
{
    public static int MaxCols => ColTile.MaxWide;

    public static long GroupBytes(int cols) => Q4_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q4_0x16Avx512.Dot<TC>(group, cols / 32, a, col, y, yStride);
}

internal readonly unsafe struct Q4_Kx16Kernel : IPackedKernel
{
    public static int MaxCols => Q4_Kx16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q4_Kx16.GroupBytes(cols / 256);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q4_Kx16Avx512.Dot<TC>(group, cols / 256, a, col, y, yStride);
}

internal readonly unsafe struct Q8_0x16Kernel : IPackedKernel
{
    public static int MaxCols => Q8_0x16Avx512.MaxCols;

    public static long GroupBytes(int cols) => Q8_0x16.GroupBytes(cols / 32);

    public static void Dot<TC>(byte* group, int cols, in QuantizedRows a, byte* offsetQs, int col, float* y, nint yStride)
        where TC : struct, ICols => Q8_0x16Avx512.Dot<TC>(group, cols / 32, offsetQs, a.QsStride, a, col, y, yStride);
}
