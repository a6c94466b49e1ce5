namespace Frugal.Numerics.Kernels;

/// <summary>
/// Q4_0 weights repacked at load for the AVX-512 decode and prefill kernel (<see cref="Q4_0x16Avx512"/>): rows go in
/// groups of 16 and each group's blocks are interleaved so that one 64-byte load holds the same 4 nibble bytes of all
/// 16 rows. Lane i (4 bytes) of a vector is then row i, and an activation broadcast of 4 bytes dots with every row at
/// once: no horizontal sums and no scale permutes, 16 results per block in the lanes of one accumulator. The same idea
/// as llama.cpp's block_q4_0x8 (ggml-cpu repack.cpp), 16 rows wide for zmm.
/// <para>
/// Layout of one group, per pair of blocks (b, b + 1), 576 bytes, a whole number of 64-byte lines:
/// bytes [0, 32) the fp16 scales d of block b for rows 0..15, [32, 64) those of block b + 1, then for h = 0, 1 (block
/// b + h) and chunk c = 0..3: 64 bytes whose lane i is bytes 4c .. 4c + 3 of row i's qs[16] (low nibbles: elements
/// 4c .. 4c + 3, high nibbles: elements 16 + 4c .. 16 + 4c + 3, as in the GGUF block). An odd last block's partner is
/// zero bytes and never read. Rows past the last whole group stay in the original layout.
/// </para>
/// The bytes are the file's bytes moved, not changed: the repacked copy is exactly as large as the rows it covers.
/// </summary>
internal static unsafe class Q4_0x16
{
    public const int Rows = RowInterleave.Rows;
    public const int PairBytes = 64 + 2 * 256;

    /// <summary>Bytes of one 16-row group of <paramref name="blocks"/> blocks per row.</summary>
    public static long GroupBytes(int blocks) => (long)(blocks + 1) / 2 * PairBytes;

    /// <summary>Bytes of the repacked copy of a [rows, cols] Q4_0 matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 32);

    /// <summary>Repacks the whole groups of [rows, rowBytes] Q4_0 blocks at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst)
    {
        int nb = cols / 32;
        long groupBytes = GroupBytes(nb);
        for (int g = 0; g < rows / Rows; g++)
        {
            byte* gd = dst + g * groupBytes;
            byte* gs = src + (long)g * Rows * rowBytes;
            if (nb % 2 == 1) // the odd last block's partner: zero bytes, never read
            {
                byte* last = gd + groupBytes - PairBytes;
                new Span<byte>(last + 32, 32).Clear();
                new Span<byte>(last + 64 + 256, 256).Clear();
            }
            for (int b = 0; b < nb; b++)
            {
                byte* unit = gd + (long)(b >> 1) * PairBytes;
                int h = b & 1;
                for (int i = 0; i < Rows; i++)
                    ((ushort*)(unit + h * 32))[i] = *(ushort*)(gs + i * rowBytes + b * 18);
                for (int c = 0; c < 4; c++)
                    RowInterleave.Gather(gs + b * 18 + 2 + 4 * c, rowBytes, (int*)(unit + 64 + h * 256 + c * 64));
            }
        }
    }

    /// <summary>Rebuilds the 18-byte GGUF block <paramref name="block"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int blocks, int row, int block, byte* dst)
    {
        if ((uint)row >= Rows || (uint)block >= (uint)blocks)
            throw new ArgumentOutOfRangeException(nameof(block));
        byte* unit = group + (long)(block >> 1) * PairBytes;
        int h = block & 1;
        *(ushort*)dst = ((ushort*)(unit + h * 32))[row];
        for (int c = 0; c < 4; c++)
            *(uint*)(dst + 2 + 4 * c) = ((uint*)(unit + 64 + h * 256 + c * 64))[row];
    }
}
