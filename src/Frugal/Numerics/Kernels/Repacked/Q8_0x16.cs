using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Q8_0 weights repacked at load for <see cref="Q8_0x16Avx512"/>, 16 rows per group as <see cref="Q4_0x16"/>: one
/// 64-byte vector holds the same 4 quant bytes of all 16 rows' block, lane i = row i, so a 4-byte activation
/// broadcast dots with every row at once (vpdpbusd) and the 16 results land in the lanes of one accumulator.
/// <para>
/// A group is nb units of 576 bytes (9 cache lines), one per block, read front to back: the 16 rows' fp16 d (32 bytes),
/// the 16 rows' Σq of the block as int16 (32 bytes; |Σq| ≤ 32·128, the kernel's correction for feeding vpdpbusd
/// unsigned activations q + 128: Σw·(q + 128) − 128·Σw = Σw·q, exact in int32), then for chunk c = 0..7 64 bytes
/// whose lane i is bytes 4c .. 4c + 3 of row i's qs[32]. The d and qs bytes are the file's bytes moved, not changed;
/// the copy is 16 · 34 + 32 bytes per group and block (6% more than the rows it covers). Rows past the last whole
/// group stay in the original layout.
/// </para>
/// </summary>
internal static unsafe class Q8_0x16
{
    public const int Rows = RowInterleave.Rows;
    public const int UnitBytes = 64 + 8 * 64;

    /// <summary>Whether this CPU runs the kernel (it needs the 256-bit VNNI dot, vpdpbusd, besides AVX-512).</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512BW.IsSupported;

    public static long GroupBytes(int blocks) => (long)blocks * UnitBytes;

    /// <summary>Bytes of the repacked copy of a [rows, cols] Q8_0 matrix (its whole groups only).</summary>
    public static long Bytes(int rows, int cols) => (long)(rows / Rows) * GroupBytes(cols / 32);

    /// <summary>Repacks the whole groups of [rows, rowBytes] Q8_0 blocks at <paramref name="src"/> into <paramref name="dst"/>.</summary>
    public static void Repack(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 32, 34, UnitBytes, dst, &Fill);

    private static void Fill(byte* block, long rowBytes, byte* unit)
    {
        for (int i = 0; i < Rows; i++)
        {
            byte* blk = block + i * rowBytes;
            ((ushort*)unit)[i] = *(ushort*)blk;
            ((short*)(unit + 32))[i] = (short)Sum((sbyte*)blk + 2);
        }
        for (int c = 0; c < 8; c++)
            RowInterleave.Gather(block + 2 + 4 * c, rowBytes, (int*)(unit + 64 + c * 64));
    }

    /// <summary>
    /// Q5_0 blocks widened into the same layout (values −16..15 as int8, the fp16 d unchanged), so the Q8_0x16 kernel
    /// serves Q5_0 too: 576 bytes per 16 rows and block instead of 16 · 22 = 352 (+64%), read at the Q8_0 kernel's
    /// speed. The integer dot is the same Σ(q5 − 16)·qa that ggml's vec_dot forms.
    /// </summary>
    public static void RepackQ5_0(byte* src, long rowBytes, int rows, int cols, byte* dst) =>
        RowInterleave.Build(src, rowBytes, rows, cols / 32, 22, UnitBytes, dst, &FillQ5_0);

    private static void FillQ5_0(byte* block, long rowBytes, byte* unit)
    {
        sbyte* v = stackalloc sbyte[32];
        for (int i = 0; i < Rows; i++)
        {
            byte* blk = block + i * rowBytes;
            uint qh = *(uint*)(blk + 2);
            for (int j = 0; j < 16; j++)
            {
                v[j] = (sbyte)(((blk[6 + j] & 0x0F) | (int)((qh >> j) << 4 & 0x10)) - 16);
                v[j + 16] = (sbyte)(((blk[6 + j] >> 4) | (int)((qh >> (j + 12)) & 0x10)) - 16);
            }
            ((ushort*)unit)[i] = *(ushort*)blk;
            ((short*)(unit + 32))[i] = (short)Sum(v);
            for (int c = 0; c < 8; c++)
                ((int*)(unit + 64 + c * 64))[i] = *(int*)(v + 4 * c);
        }
    }

    /// <summary>Σ of 32 int8 (widened to int16: |Σ| ≤ 4096). Vectorized: the scalar loop held the repack of a streamed Q8_0 layer to 2.3 GB/s.</summary>
    private static int Sum(sbyte* q)
    {
        var (a0, a1) = Vector128.Widen(Vector128.Load(q));
        var (b0, b1) = Vector128.Widen(Vector128.Load(q + 16));
        return Vector128.Sum(a0 + a1 + b0 + b1);
    }

    /// <summary>Rebuilds the 34-byte GGUF block <paramref name="block"/> of row <paramref name="row"/> of a group (the inverse; tests).</summary>
    public static void Unpack(byte* group, int blocks, int row, int block, byte* dst)
    {
        if ((uint)row >= Rows || (uint)block >= (uint)blocks)
            throw new ArgumentOutOfRangeException(nameof(block));
        byte* unit = group + (long)block * UnitBytes;
        *(ushort*)dst = ((ushort*)unit)[row];
        for (int c = 0; c < 8; c++)
            *(uint*)(dst + 2 + 4 * c) = ((uint*)(unit + 64 + c * 64))[row];
    }

    /// <summary>The stored Σq of row <paramref name="row"/>'s block <paramref name="block"/> (tests).</summary>
    public static short QuantSum(byte* group, int row, int block) => ((short*)(group + (long)block * UnitBytes + 32))[row];

    /// <summary>
    /// One activation row's int8 quants as the unsigned bytes q + 128 the kernel feeds vpdpbusd (<paramref name="bytes"/>
    /// a multiple of 64, as <see cref="QuantizedRows.QsStrideFor"/> gives).
    /// </summary>
    public static void OffsetActivations(sbyte* q, byte* u, int bytes)
    {
        var k = Vector512.Create((byte)0x80);
        for (int i = 0; i < bytes; i += 64)
            (Vector512.Load((byte*)q + i) ^ k).Store(u + i);
    }
}
