namespace Frugal.Numerics.Kernels;

/// <summary>
/// Q5_K weights repacked at load for <see cref="Q5_Kx16Avx512"/>, 16 rows per group as <see cref="Q4_Kx16"/>: each
/// row's 176-byte block_q5_K transposed in 4-byte words, word k of row i at byte 64k + 4i, so lane i is row i
/// throughout. A unit (one super-block of 16 rows, 2816 bytes, 44 cache lines) reads front to back as word 0 (d and
/// dmin of every row), words 1..3 (the packed 6-bit scales and mins, as Q4_K's), words 4..11 (qh: word 4 + t holds
/// qh[4t .. 4t + 3], whose bit 2j / 2j + 1 is the fifth bit of elements 64j + 4t .. and 64j + 32 + 4t ..), then
/// words 12..43, the 128 nibble bytes (qs[32j .. 32j + 31]: sub-block 2j in the low nibbles, 2j + 1 in the high). The
/// bytes are moved, not changed: the copy is exactly as large as the rows it covers. Rows past the last whole group
/// stay in the original layout.
/// </summary>
internal static unsafe class Q5_Kx16
{
    public const int Rows = RowInterleave.Rows;
    public const int BlockBytes = 176;
    public const int UnitBytes = Rows * BlockBytes;

    /// <summary>Byte offsets in a unit of the qh words and of the nibble words.</summary>
    public const int HighBits = 4 * 64, Nibbles = 12 * 64;

    public static long GroupBytes(int superBlocks) => (long)superBlocks * UnitBytes;

    /// <summary>Bytes of the repacked copy of a [rows, cols] Q5_K matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 256);

    /// <summary>Repacks the whole groups of [rows, rowBytes] Q5_K blocks at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 256, BlockBytes, UnitBytes, dst, &Fill);

    private static void Fill(byte* block, long rowBytes, byte* unit) => RowInterleave.TransposeWords(block, rowBytes, unit, BlockBytes);

    /// <summary>Rebuilds the 176-byte block_q5_K <paramref name="superBlock"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int superBlocks, int row, int superBlock, byte* dst) =>
        RowInterleave.UntransposeWords(group, superBlocks, row, superBlock, BlockBytes, dst);
}
