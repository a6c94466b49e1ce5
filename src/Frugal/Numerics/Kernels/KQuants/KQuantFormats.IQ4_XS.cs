using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Frugal.Numerics.Quant;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// block_iq4_xs in the k-quant common form: u = the signed level kvalues_iq4nl[nibble] (<see cref="Signed"/>), the
/// scale of both 16-groups of sub-block j = its 6-bit ls − 32, no min. Against Q8_K activations that is ggml's
/// ggml_vec_dot_iq4_xs_q8_K: d·da·Σ_j (ls_j − 32)·Σ kv·q.
/// </summary>
internal readonly unsafe struct IQ4_XSFormat : IKQuantFormat
{
    public static int Bytes => 136;
    public static bool SharedScale => true;
    public static bool Signed => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = 0;
        ushort sh = Unsafe.ReadUnaligned<ushort>(b + 2);
        Scales(sh, b + 4, sc);
        Vector256<short>.Zero.Store(mn);
        byte* qs = b + 8;
        for (int j = 0; j < 8; j++)
        {
            Block32Bits.Nibbles(qs + 16 * j, out var lo, out var hi);
            Vector256.Create(IQ4Levels.Lookup(lo), IQ4Levels.Lookup(hi)).Store(u + 32 * j);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = 0;
        ushort sh = Unsafe.ReadUnaligned<ushort>(b + 2);
        var kv = BlockIQ4_NL.Values;
        for (int j = 0; j < 8; j++)
        {
            sc[2 * j] = sc[2 * j + 1] = (short)BlockIQ4_XS.Scale(sh, b + 4, j);
            mn[2 * j] = mn[2 * j + 1] = 0;
            byte* qs = b + 8 + 16 * j;
            for (int l = 0; l < 16; l++)
            {
                u[32 * j + l] = (byte)kv[qs[l] & 0xF];
                u[32 * j + 16 + l] = (byte)kv[qs[l] >> 4];
            }
        }
    }

    /// <summary>The 8 sub-block scales ls − 32, each twice (one per 16-group), written with one 32-byte store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scales(ushort sh, byte* sl, short* sc)
    {
        uint l = Unsafe.ReadUnaligned<uint>(sl);
        Vector256<short> v = Vector256.Create(
            S(l, sh, 0), S(l, sh, 0), S(l, sh, 1), S(l, sh, 1), S(l, sh, 2), S(l, sh, 2), S(l, sh, 3), S(l, sh, 3),
            S(l, sh, 4), S(l, sh, 4), S(l, sh, 5), S(l, sh, 5), S(l, sh, 6), S(l, sh, 6), S(l, sh, 7), S(l, sh, 7));
        v.Store(sc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static short S(uint l, ushort sh, int j) => (short)((int)((l >> (4 * j)) & 0xF | (uint)((sh >> (2 * j)) & 3) << 4) - 32);
}
