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

    /// <summary>16 fp16 bit patterns (the low 16 bits of each lane) as f32, exact for normal and subnormal values (see <see cref="Block32Bits.Half"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector512<uint> h) =>
        (((h & Vector512.Create(0x7FFFu)) << 13) | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle()
        * Vector512.Create(5.192296858534828e33f); // 2^112

    /// <summary>16 fp16 bit patterns as f32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> HalfToSingle(Vector256<ushort> h16) => HalfToSingle(Avx512F.ConvertToVector512UInt32(h16));
}
