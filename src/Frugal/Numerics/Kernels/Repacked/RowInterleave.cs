using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// What the 16-row interleaved layouts (<see cref="Q4_0x16"/>, <see cref="Q4_Kx16"/>, <see cref="Q5_Kx16"/>, <see cref="Q6_Kx16"/>,
/// <see cref="Q8_0x16"/>) share: the move that builds them (the same 4 bytes of 16 rows into one 64-byte vector, lane i
/// = row i) and the fp16 conversion their kernels apply to 16 rows' scales at once.
/// </summary>
internal static unsafe class RowInterleave
{
    public const int Rows = 16;

    /// <summary>Rows covered by whole groups: a repacked copy's rows; the rest stay in the original blocks.</summary>
    public static int GroupedRows(int rows) => rows / Rows * Rows;

    /// <summary>
    /// dst[i] = the 4 bytes at <paramref name="at"/> + i · <paramref name="rowBytes"/>, i = 0..15: two 8-row gathers
    /// where AVX2 has them (and the offsets fit in int32), else 16 plain loads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Gather(byte* at, long rowBytes, int* dst)
    {
        if (Avx2.IsSupported && Rows * rowBytes < int.MaxValue)
        {
            var offsets = Vector256<int>.Indices * (int)rowBytes;
            Avx2.GatherVector256((int*)at, offsets, 1).Store(dst);
            Avx2.GatherVector256((int*)(at + 8 * rowBytes), offsets, 1).Store(dst + 8);
        }
        else
            for (int i = 0; i < Rows; i++)
                dst[i] = *(int*)(at + i * rowBytes);
    }

    /// <summary>
    /// Builds a layout whose groups of 16 rows are <paramref name="units"/> consecutive units of
    /// <paramref name="unitBytes"/>, unit u from block u (<paramref name="blockBytes"/> apart) of the group's rows:
    /// <paramref name="fill"/>(the group's first row at block u, the row stride, the unit). The whole groups only.
    /// </summary>
    public static void Build(byte* src, long rowBytes, int rows, int units, int blockBytes, int unitBytes, byte* dst,
        delegate*<byte*, long, byte*, void> fill)
    {
        for (int g = 0; g < rows / Rows; g++)
        {
            byte* gs = src + (long)g * Rows * rowBytes;
            byte* gd = dst + (long)g * units * unitBytes;
            for (int u = 0; u < units; u++)
                fill(gs + (long)u * blockBytes, rowBytes, gd + (long)u * unitBytes);
        }
    }

    /// <summary>
    /// Fills a unit of a word-transposed layout (<see cref="Q4_Kx16"/>, <see cref="Q5_Kx16"/>, <see cref="IQ4_XSx16"/>):
    /// word k of row i of the <paramref name="blockBytes"/>-byte blocks at <paramref name="block"/> goes to byte
    /// 64k + 4i of <paramref name="unit"/>, so lane i is row i throughout.
    /// </summary>
    public static void TransposeWords(byte* block, long rowBytes, byte* unit, int blockBytes)
    {
        for (int k = 0; k < blockBytes / 4; k++)
            Gather(block + 4 * k, rowBytes, (int*)(unit + 64 * k));
    }

    /// <summary>
    /// The inverse of <see cref="TransposeWords"/> for one row (tests): rebuilds block <paramref name="superBlock"/> of row
    /// <paramref name="row"/> of a group of <paramref name="superBlocks"/> units into <paramref name="dst"/>.
    /// </summary>
    public static void UntransposeWords(byte* group, int superBlocks, int row, int superBlock, int blockBytes, byte* dst)
    {
        if ((uint)row >= Rows || (uint)superBlock >= (uint)superBlocks)
            throw new ArgumentOutOfRangeException(nameof(superBlock));
        byte* unit = group + (long)superBlock * Rows * blockBytes;
        for (int k = 0; k < blockBytes / 4; k++)
            *(int*)(dst + 4 * k) = ((int*)(unit + 64 * k))[row];
    }

    /// <summary>16 fp16 bit patterns (the low 16 bits of each lane) as f32, exact for normal and subnormal values (see <see cref="Block32Bits.Half"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector512<uint> h) =>
        (((h & Vector512.Create(0x7FFFu)) << 13) | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle()
        * Vector512.Create(5.192296858534828e33f); // 2^112

    /// <summary>16 fp16 bit patterns as f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector256<ushort> h16) => HalfToSingle(Avx512F.ConvertToVector512UInt32(h16));
}
