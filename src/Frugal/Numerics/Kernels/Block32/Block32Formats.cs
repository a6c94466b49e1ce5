using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// A 32-element GGUF block format seen by the integer-dot kernels: each element is an integer u (unsigned
/// unless <see cref="Signed"/>) and the block's value is d·u + m, where m is the block's own min
/// (<see cref="HasMin"/>) or the constant d·<see cref="Offset"/>. Against a Q8_0 activation block (da, q) that makes
/// dot = d·da·Σu·q + m·da·Σq, so the kernels need only Σu·q and the activation block sums.
/// Byte layouts: ggml-common.h (block_q4_0 ... block_q8_0). In every one d is the fp16 at byte 0 and m (when
/// <see cref="HasMin"/>) the fp16 at byte 2; the AVX-512 path reads them there directly, both blocks at once.
/// </summary>
internal unsafe interface IBlock32Format
{
    static abstract int Bytes { get; }
    static abstract bool Signed { get; }
    static abstract bool HasMin { get; }
    static abstract float Offset { get; }

    static abstract float D(byte* block);

    static abstract float M(byte* block);

    /// <summary>Elements 0..15 into <paramref name="lo"/>, 16..31 into <paramref name="hi"/>.</summary>
    static abstract void Unpack(byte* block, out Vector128<byte> lo, out Vector128<byte> hi);

    /// <summary>Element <paramref name="j"/> as an integer (the scalar twin of <see cref="Unpack"/>).</summary>
    static abstract int Value(byte* block, int j);

    /// <summary>
    /// Blocks <paramref name="a"/> and <paramref name="b"/> unpacked into one zmm, [a0..31, b0..31]: the AVX-512 path's
    /// block pair, in fewer instructions than two <see cref="Unpack"/> calls (one 256-bit nibble split for both).
    /// </summary>
    static abstract Vector512<byte> UnpackPair(byte* a, byte* b);
}

internal static unsafe class Block32Bits
{
    /// <summary>
    /// fp16 at <paramref name="p"/> as f32, exact for every finite half (subnormals included): move exponent and
    /// mantissa into f32 position and rebias by multiplying with 2^112. A few instructions instead of the
    /// general-purpose (float)Half conversion, which costs more than a whole block's integer dot. Scales are
    /// never Inf/NaN in valid weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(byte* p)
    {
        uint h = Unsafe.ReadUnaligned<ushort>(p);
        uint bits = ((h & 0x7FFF) << 13) | ((h & 0x8000) << 16);
        return BitConverter.UInt32BitsToSingle(bits) * 5.192296858534828e33f; // 2^112
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nibbles(byte* qs, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        var q = Vector128.Load(qs);
        var mask = Vector128.Create((byte)0x0F);
        lo = q & mask;
        hi = Vector128.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask;
    }

    /// <summary>
    /// The 16 nibble bytes of two blocks at <paramref name="qa"/> and <paramref name="qb"/> as [a0..31, b0..31]: both
    /// loaded into one ymm, split into low and high nibbles at 256 bits ([a_lo, b_lo], [a_hi, b_hi]), and the four
    /// 128-bit lanes put in element order by one vshufi32x4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> NibblePair(byte* qa, byte* qb)
    {
        var q = Vector256.Create(Vector128.Load(qa), Vector128.Load(qb));
        var mask = Vector256.Create((byte)0x0F);
        var z = Vector512.Create(q & mask, Vector256.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & mask);
        return Avx512F.Shuffle4x128(z.AsUInt32(), z.AsUInt32(), 0xD8).AsByte(); // lanes 0, 2, 1, 3
    }

    /// <summary>
    /// The fifth bits of two Q5 blocks (32-bit masks at <paramref name="qha"/>, <paramref name="qhb"/>) as 0x10 in the
    /// bytes of [a0..31, b0..31]: the 8 mask bytes broadcast to every lane, byte j/8 picked for element j, bit j%8 tested.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> FifthBitsPair(byte* qha, byte* qhb)
    {
        ulong both = Unsafe.ReadUnaligned<uint>(qha) | (ulong)Unsafe.ReadUnaligned<uint>(qhb) << 32;
        var bits = Vector512.Create(both).AsByte();
        var pick = Vector512.Create(
            Vector256.Create(Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)),
            Vector256.Create(Vector128.Create((byte)4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5),
                Vector128.Create((byte)6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7)));
        var select = Vector512.Create(Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128));
        var picked = Avx512BW.Shuffle(bits, pick) & select;
        return Vector512.Equals(picked, select) & Vector512.Create((byte)0x10);
    }

    /// <summary>Bit j of the 32-bit mask as 0x10 in byte j: the fifth bit of the Q5 formats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FifthBits(byte* qh, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        var bits = Vector128.Create(Unsafe.ReadUnaligned<uint>(qh)).AsByte();
        var select = Vector128.Create(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        var b0 = Vector128.Shuffle(bits, Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        var b1 = Vector128.Shuffle(bits, Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var five = Vector128.Create((byte)0x10);
        lo = Vector128.Equals(b0 & select, select) & five;
        hi = Vector128.Equals(b1 & select, select) & five;
    }

    // The Q5 formats (Q5_0, Q5_1) share one payload after their header: qh[4] (fifth bits), then qs[16] (nibbles).

    /// <summary>The 32 5-bit values of a Q5 payload at <paramref name="q5"/> (qh, then qs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FiveBits(byte* q5, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Nibbles(q5 + 4, out lo, out hi);
        FifthBits(q5, out var h0, out var h1);
        lo |= h0;
        hi |= h1;
    }

    /// <summary>Two Q5 payloads unpacked at once: a's 32 values in the low half, b's in the high half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> FiveBitsPair(byte* q5a, byte* q5b) => NibblePair(q5a + 4, q5b + 4) | FifthBitsPair(q5a, q5b);

    /// <summary>Value j (0..31) of a Q5 payload, the scalar twin of <see cref="FiveBits"/>.</summary>
    public static int FiveBitValue(byte* q5, int j)
    {
        uint qh = Unsafe.ReadUnaligned<uint>(q5);
        int low = j < 16 ? q5[4 + j] & 0xF : q5[4 + j - 16] >> 4;
        return low | (int)((qh >> j) & 1) << 4;
    }
}

internal readonly unsafe struct Q4_0Format : IBlock32Format
{
    public static int Bytes => 18;
    public static bool Signed => false;
    public static bool HasMin => false;
    public static float Offset => -8;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi) => Block32Bits.Nibbles(b + 2, out lo, out hi);
    public static int Value(byte* b, int j) => j < 16 ? b[2 + j] & 0xF : b[2 + j - 16] >> 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) => Block32Bits.NibblePair(a + 2, b + 2);
}

internal readonly unsafe struct Q4_1Format : IBlock32Format
{
    public static int Bytes => 20;
    public static bool Signed => false;
    public static bool HasMin => true;
    public static float Offset => 0;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => Block32Bits.Half(b + 2);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi) => Block32Bits.Nibbles(b + 4, out lo, out hi);
    public static int Value(byte* b, int j) => j < 16 ? b[4 + j] & 0xF : b[4 + j - 16] >> 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) => Block32Bits.NibblePair(a + 4, b + 4);
}

internal readonly unsafe struct Q5_0Format : IBlock32Format
{
    public static int Bytes => 22;
    public static bool Signed => false;
    public static bool HasMin => false;
    public static float Offset => -16;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi) => Block32Bits.FiveBits(b + 2, out lo, out hi);

    public static int Value(byte* b, int j) => Block32Bits.FiveBitValue(b + 2, j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) => Block32Bits.FiveBitsPair(a + 2, b + 2);
}

internal readonly unsafe struct Q5_1Format : IBlock32Format
{
    public static int Bytes => 24;
    public static bool Signed => false;
    public static bool HasMin => true;
    public static float Offset => 0;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => Block32Bits.Half(b + 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi) => Block32Bits.FiveBits(b + 4, out lo, out hi);

    public static int Value(byte* b, int j) => Block32Bits.FiveBitValue(b + 4, j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) => Block32Bits.FiveBitsPair(a + 4, b + 4);
}

internal readonly unsafe struct Q8_0Format : IBlock32Format
{
    public static int Bytes => 34;
    public static bool Signed => true;
    public static bool HasMin => false;
    public static float Offset => 0;
    public static float D(byte* b) => Block32Bits.Half(b);
    public static float M(byte* b) => 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        lo = Vector128.Load(b + 2);
        hi = Vector128.Load(b + 18);
    }

    public static int Value(byte* b, int j) => (sbyte)b[2 + j];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> UnpackPair(byte* a, byte* b) =>
        Vector512.Create(Vector256.Load(a + 2), Vector256.Load(b + 2));
}
