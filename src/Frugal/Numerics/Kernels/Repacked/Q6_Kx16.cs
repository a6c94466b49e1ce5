namespace Frugal.Numerics.Kernels;

/// <summary>
/// Q6_K weights repacked at load for <see cref="Q6_Kx16Avx512"/>, 16 rows per group as <see cref="Q4_0x16"/>: one
/// 64-byte vector holds the same 4 bytes of all 16 rows' super-block, so lane i is row i throughout.
/// <para>
/// A group is nsb units of 3392 bytes (53 cache lines), one per super-block, read front to back: the 16 rows' fp16 d
/// (32 bytes); for each of the 16 sub-blocks j the 16 rows' int8 scale j (256 bytes); 32 bytes of padding to the line;
/// then 48 quant chunks in the order the kernel uses them: for h = 0, 1 and lq = 0..7, the ql chunk at byte
/// 64h + 4lq, the ql chunk at 64h + 32 + 4lq and the qh chunk at 32h + 4lq (a chunk at byte p holds bytes p .. p + 3
/// of the block's ql[128] or qh[64], for each row). A strictly ascending stream: with the chunks in GGUF order the
/// kernel's jumps inside each super-block defeated the hardware prefetcher (10 against 25-30 GB/s from DRAM). The
/// block_q6_K bytes are moved, not changed; the copy is 16 · 210 + 32 bytes per group and super-block.
/// </para>
/// </summary>
internal static unsafe class Q6_Kx16
{
    public const int Rows = RowInterleave.Rows;
    public const int MetaBytes = 320;
    public const int UnitBytes = MetaBytes + 48 * 64;

    public static long GroupBytes(int superBlocks) => (long)superBlocks * UnitBytes;

    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 256);

    /// <summary>Byte offset in the block_q6_K of the 4-byte chunk stored at position <paramref name="c"/> (0..47) of a unit.</summary>
    public static int ChunkSource(int c)
    {
        int h = c / 24, lq = c % 24 / 3;
        return (c % 3) switch
        {
            0 => 64 * h + 4 * lq,
            1 => 64 * h + 32 + 4 * lq,
            _ => 128 + 32 * h + 4 * lq,
        };
    }

    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 256, 210, UnitBytes, dst, &Fill);

    private static void Fill(byte* block, long rowBytes, byte* unit)
    {
        for (int i = 0; i < Rows; i++)
        {
            byte* blk = block + i * rowBytes;
            ((ushort*)unit)[i] = *(ushort*)(blk + 208);
            for (int j = 0; j < 16; j++)
                unit[32 + 16 * j + i] = blk[192 + j];
        }
        new Span<byte>(unit + 288, MetaBytes - 288).Clear();
        for (int c = 0; c < 48; c++)
            RowInterleave.Gather(block + ChunkSource(c), rowBytes, (int*)(unit + MetaBytes + c * 64));
    }

    /// <summary>Rebuilds the 210-byte block_q6_K <paramref name="superBlock"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int superBlocks, int row, int superBlock, byte* dst)
    {
        if ((uint)row >= Rows || (uint)superBlock >= (uint)superBlocks)
            throw new ArgumentOutOfRangeException(nameof(superBlock));
        byte* unit = group + (long)superBlock * UnitBytes;
        for (int c = 0; c < 48; c++)
            *(int*)(dst + ChunkSource(c)) = ((int*)(unit + MetaBytes + c * 64))[row];
        for (int j = 0; j < 16; j++)
            dst[192 + j] = unit[32 + 16 * j + row];
        *(ushort*)(dst + 208) = ((ushort*)unit)[row];
    }
}
