namespace Frugal.Numerics.Kernels;

/// <summary>
/// Activation rows quantized to 8-bit blocks, laid out for the kernels (not the GGUF byte layout):
/// <list type="bullet">
/// <item>Q8_0 form (for the 32-element weight formats): <see cref="Qs"/> [rows, QsStride] int8; <see cref="Scales"/>
/// [rows, ScaleStride] floats holding, per pair of blocks A, B: [dA, dB, sA, sB] where s = d·Σq / 8 (the share of one
/// of a block's 8 dot lanes). One 16-byte load gives a 512-bit kernel both blocks' scales; the row stays L1-sized.</item>
/// <item>Q8_K form (for the k-quants): <see cref="Qs"/> as above; <see cref="Scales"/> [rows, blocks] one d per
/// 256 elements; <see cref="Sums"/> [rows, blocks * 16] int16 sums of each 16 quants (ggml's bsums).</item>
/// </list>
/// </summary>
internal readonly unsafe struct QuantizedRows
{
    public readonly sbyte* Qs;
    public readonly float* Scales;
    public readonly short* Sums;
    public readonly int QsStride;
    public readonly int ScaleStride;
    public readonly int SumStride;

    public QuantizedRows(sbyte* qs, int qsStride, float* scales, int scaleStride, short* sums, int sumStride)
    {
        Qs = qs;
        QsStride = qsStride;
        Scales = scales;
        ScaleStride = scaleStride;
        Sums = sums;
        SumStride = sumStride;
    }

    public sbyte* QsRow(int row) => Qs + (nint)row * QsStride;

    public float* ScaleRow(int row) => Scales + (nint)row * ScaleStride;

    public short* SumRow(int row) => Sums + (nint)row * SumStride;

    /// <summary>Qs row stride: a whole number of 64-byte lines, so a 512-bit load of the last block pair stays inside.</summary>
    public static int QsStrideFor(int cols) => (cols + 63) & ~63;

    /// <summary>Floats of Q8_0-form scales per row: 4 per pair of 32-element blocks, padded to a 64-byte line.</summary>
    public static int Q8_0ScaleStride(int cols) => ((cols / 32 + 1) / 2 * 4 + 15) & ~15;

    /// <summary>Bytes one row takes in the Q8_0 form.</summary>
    public static long Q8_0RowBytes(int cols) => QsStrideFor(cols) + Q8_0ScaleStride(cols) * 4L;

    /// <summary>Bytes one row takes in the Q8_K form (qs, d, bsums), rounded to 64.</summary>
    public static long Q8_KRowBytes(int cols) => QsStrideFor(cols) + (cols / 256 * (4 + 32) + 63) / 64 * 64;
}
