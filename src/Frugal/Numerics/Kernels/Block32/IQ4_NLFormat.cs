using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Frugal.Numerics.Quant;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// block_iq4_nl seen by the 32-element kernels: its nibbles become the signed levels of kvalues_iq4nl through a
/// 16-entry byte table lookup (pshufb / tbl), and from there the block is dotted like a Q8_0 block (signed, no offset),
/// as ggml's ggml_vec_dot_iq4_nl_q8_0 does.
/// </summary>
internal readonly unsafe struct IQ4_NLFormat : IBlock32Format
{
    public static int Bytes => 18;
    public static bool Signed => true;
    public static bool HasMin => false;
    public static float Offset => 0;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Block32Bits.Nibbles(b + 2, out var l, out var h);
        lo = IQ4Levels.Lookup(l);
        hi = IQ4Levels.Lookup(h);
    }

    public static int Value(byte* b, int j) => BlockIQ4_NL.Values[j < 16 ? b[2 + j] & 0xF : b[2 + j - 16] >> 4];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) => IQ4Levels.Lookup(Block32Bits.NibblePair(a + 2, b + 2));
}

/// <summary>kvalues_iq4nl as byte tables and the nibble-to-level lookups the IQ4 kernels share.</summary>
internal static class IQ4Levels
{
    /// <summary>The 16 signed levels as bytes (two's complement).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Table() =>
        Vector128.Create((sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113).AsByte();

    /// <summary>The levels plus 128, as unsigned bytes 1..241: the operand the VNNI kernels feed vpdpbusd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> OffsetTable() => Table() ^ Vector128.Create((byte)0x80);

    /// <summary>Each byte (0..15) of <paramref name="idx"/> replaced by its level.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Lookup(Vector128<byte> idx)
    {
        if (Ssse3.IsSupported)
            return Ssse3.Shuffle(Table(), idx);
        if (AdvSimd.Arm64.IsSupported)
            return AdvSimd.Arm64.VectorTableLookup(Table(), idx);
        return Vector128.Shuffle(Table(), idx);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Lookup(Vector256<byte> idx) => Avx2.Shuffle(Vector256.Create(Table()), idx);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Lookup(Vector512<byte> idx) => Avx512BW.Shuffle(Vector512.Create(Table()), idx);
}
