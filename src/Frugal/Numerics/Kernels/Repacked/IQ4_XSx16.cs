namespace Frugal.Numerics.Kernels;

/// <summary>
/// IQ4_XS weights repacked at load for <see cref="IQ4_XSx16Avx512"/>, 16 rows per group as <see cref="Q4_Kx16"/>: each
/// row's 136-byte block_iq4_xs transposed in 4-byte words, word k of row i at byte 64k + 4i, so lane i is row i
/// throughout. A unit (one super-block of 16 rows, 2176 bytes, 34 cache lines) reads front to back as word 0 (d and
/// scales_h of every row), word 1 (scales_l), then words 2 + 4j .. 5 + 4j: sub-block j's 16 nibble bytes. The bytes are
/// moved, not changed: the copy is exactly as large as the rows it covers. Rows past the last whole group stay in the
/// original layout.
/// </summary>
internal static unsafe class IQ4_XSx16
{
    public const int Rows = RowInterleave.Rows;
    public const int BlockBytes = 136;
    public const int UnitBytes = Rows * BlockBytes;

    public static long GroupBytes(int superBlocks) => (long)superBlocks * UnitBytes;

    /// <summary>Bytes of the repacked copy of a [rows, cols] IQ4_XS matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 256);

    /// <summary>Repacks the whole groups of [rows, rowBytes] IQ4_XS blocks at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 256, BlockBytes, UnitBytes, dst, &Fill);

    private static void Fill(byte* block, long rowBytes, byte* unit) => RowInterleave.TransposeWords(block, rowBytes, unit, BlockBytes);

    /// <summary>Rebuilds the 136-byte block_iq4_xs <paramref name="superBlock"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int superBlocks, int row, int superBlock, byte* dst) =>
        RowInterleave.UntransposeWords(group, superBlocks, row, superBlock, BlockBytes, dst);
}
