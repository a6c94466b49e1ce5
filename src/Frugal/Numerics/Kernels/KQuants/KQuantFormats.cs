using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// A k-quant super-block (256 elements, ggml-common.h block_q2_K ... block_q6_K) unpacked into one common form:
/// 256 unsigned integers u, and per group of 16 a signed scale sc and a min mn, so that element i is
/// <c>d·sc[i/16]·u[i] - dmin·mn[i/16]</c>. Against a Q8_K activation (da, q, bsums) the dot is then
/// <c>da·(d·Σ_g sc_g·Σ u·q - dmin·Σ_g mn_g·bsum_g)</c>: one integer engine serves every k-quant.
/// </summary>
internal unsafe interface IKQuantFormat
{
    static abstract int Bytes { get; }

    /// <summary>
    /// True where dmin is always d (Q3_K, Q6_K: the offset is part of the quant, not a separate min), so a kernel may
    /// subtract the min term in integers before the one conversion to f32.
    /// </summary>
    static abstract bool SharedScale { get; }

    /// <summary>
    /// True where u holds signed levels (IQ4_XS: kvalues_iq4nl), no min: the kernels then feed |u| to the
    /// unsigned-times-signed byte dot and move u's sign onto the activations, as ggml's mul_add_epi8 does.
    /// </summary>
    static abstract bool Signed { get; }

    /// <summary>Vectorized unpack (portable 128-bit vectors).</summary>
    static abstract void Unpack(byte* block, byte* u, short* sc, short* mn, out float d, out float dmin);

    /// <summary>The scalar twin of <see cref="Unpack"/>, written from ggml's dequantize_row_*.</summary>
    static abstract void UnpackScalar(byte* block, byte* u, short* sc, short* mn, out float d, out float dmin);
}

internal static unsafe class KQuantBits
{
    /// <summary>(v >> shift) &amp; mask per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Bits(Vector256<byte> v, int shift, byte mask) =>
        Vector256.ShiftRightLogical(v.AsUInt16(), shift).AsByte() & Vector256.Create(mask);

    /// <summary>v &lt;&lt; shift per byte, for values that do not carry out of their byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Up(Vector256<byte> v, int shift) => Vector256.ShiftLeft(v.AsUInt16(), shift).AsByte();

    /// <summary>16 signed bytes widened to 16 shorts, written with one 32-byte store (the engines load it as one
    /// vector, and a load wider than the stores before it stalls on store forwarding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreWidened(Vector128<sbyte> v, short* dst) =>
        Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v)).Store(dst);

    /// <summary>(v >> shift) &amp; mask per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Bits(Vector128<byte> v, int shift, byte mask) =>
        Vector128.ShiftRightLogical(v.AsUInt16(), shift).AsByte() & Vector128.Create(mask);

    /// <summary>v &lt;&lt; shift per byte, for values that do not carry out of their byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Up(Vector128<byte> v, int shift) => Vector128.ShiftLeft(v.AsUInt16(), shift).AsByte();

    /// <summary>
    /// The 12 packed bytes of Q4_K/Q5_K scales into 8 six-bit scales (bytes 0..7) and 8 mins (bytes 8..15), as in
    /// ggml's get_scale_min_k4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> ScalesMins12(byte* s)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint a0 = Unsafe.ReadUnaligned<uint>(s), a1 = Unsafe.ReadUnaligned<uint>(s + 4), a2 = Unsafe.ReadUnaligned<uint>(s + 8);
        uint sc0 = a0 & kmask1;
        uint sc1 = (a2 & kmask2) | (((a0 >> 6) & kmask3) << 4);
        uint mn0 = a1 & kmask1;
        uint mn1 = ((a2 >> 4) & kmask2) | (((a1 >> 6) & kmask3) << 4);
        return Vector128.Create(sc0, sc1, mn0, mn1).AsByte();
    }

    /// <summary>Each of the 8 bytes at <paramref name="first"/>.. twice, widened to 16 shorts (one per group of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreDoubled(Vector128<byte> v, bool mins, short* dst)
    {
        var idx = mins
            ? Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15)
            : Vector128.Create((byte)0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        var dup = Vector128.Shuffle(v, idx);
        Vector256.Create(Vector128.WidenLower(dup).AsInt16(), Vector128.WidenUpper(dup).AsInt16()).Store(dst);
    }

    public static void ScaleMinK4(int j, byte* q, out int sc, out int m)
    {
        if (j < 4)
        {
            sc = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>Q3_K's 12 packed bytes into 16 six-bit scales (still biased by 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Scales3K(byte* s)
    {
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        uint a0 = Unsafe.ReadUnaligned<uint>(s), a1 = Unsafe.ReadUnaligned<uint>(s + 4), tmp = Unsafe.ReadUnaligned<uint>(s + 8);
        return Vector128.Create(
            (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4),
            (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4),
            ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4),
            ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4)).AsByte();
    }
}
