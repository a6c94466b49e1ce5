namespace Frugal.Numerics.Kernels;

/// <summary>
/// Q4_K weights repacked at load for <see cref="Q4_Kx16Avx512"/>, 16 rows per group as <see cref="Q4_0x16"/>: one
/// 64-byte vector holds the same 4 bytes of all 16 rows' super-block, so lane i is row i throughout and the kernel
/// needs no horizontal sums.
/// <para>
/// A group is nsb units of 2304 bytes (36 cache lines), one per super-block: the 144-byte block_q4_K of each of the 16
/// rows transposed in 4-byte words, word k of row i at byte 64k + 4i. So the unit reads front to back as word 0 (d and
/// dmin of every row), words 1..3 (the 12 bytes of packed 6-bit scales and mins, unpacked in the lanes with ggml's
/// get_scale_min_k4 masks), then words 4..35, the 128 nibble bytes in the order the kernel uses them (qs[32j .. 32j +
/// 31] holds sub-block 2j in its low and 2j + 1 in its high nibbles). The bytes are moved, not changed: the copy is
/// exactly as large as the rows it covers. Rows past the last whole group stay in the original layout.
/// </para>
/// </summary>
internal static unsafe class Q4_Kx16
{
    public const int Rows = RowInterleave.Rows;
    public const int BlockBytes = 144;
    public const int UnitBytes = Rows * BlockBytes;

    public static long GroupBytes(int superBlocks) => (long)superBlocks * UnitBytes;

    /// <summary>Bytes of the repacked copy of a [rows, cols] Q4_K matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 256);

    /// <summary>Repacks the whole groups of [rows, rowBytes] Q4_K blocks at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 256, BlockBytes, UnitBytes, dst, &Fill);

    private static void Fill(byte* block, long rowBytes, byte* unit) => RowInterleave.TransposeWords(block, rowBytes, unit, BlockBytes);

    /// <summary>Rebuilds the 144-byte block_q4_K <paramref name="superBlock"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int superBlocks, int row, int superBlock, byte* dst) =>
        RowInterleave.UntransposeWords(group, superBlocks, row, superBlock, BlockBytes, dst);
}
