using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Frugal.Numerics.Kernels.KQuantBits;

namespace Frugal.Numerics.Kernels;

/// <summary>block_q4_K: d, dmin (fp16), 12 bytes of 6-bit scales/mins per 32, 128 bytes of nibbles.</summary>
internal readonly unsafe struct Q4_KFormat : IKQuantFormat
{
    public static int Bytes => 144;
    public static bool SharedScale => false;
    public static bool Signed => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = Block32Bits.Half(b + 2);
        var sm = ScalesMins12(b + 4);
        StoreDoubled(sm, false, sc);
        StoreDoubled(sm, true, mn);
        byte* qs = b + 16;
        for (int j = 0; j < 4; j++)
        {
            var q = Vector256.Load(qs + 32 * j);
            (q & Vector256.Create((byte)0x0F)).Store(u + 64 * j);
            Bits(q, 4, 0xF).Store(u + 64 * j + 32);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = Block32Bits.Half(b + 2);
        for (int j = 0; j < 8; j++)
        {
            ScaleMinK4(j, b + 4, out int s, out int m);
            sc[2 * j] = sc[2 * j + 1] = (short)s;
            mn[2 * j] = mn[2 * j + 1] = (short)m;
        }
        byte* qs = b + 16;
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
            {
                u[64 * j + l] = (byte)(qs[32 * j + l] & 0xF);
                u[64 * j + 32 + l] = (byte)(qs[32 * j + l] >> 4);
            }
    }
}

/// <summary>block_q5_K: d, dmin, 12 bytes of scales/mins, 32 bytes of fifth bits, 128 bytes of nibbles.</summary>
internal readonly unsafe struct Q5_KFormat : IKQuantFormat
{
    public static int Bytes => 176;
    public static bool SharedScale => false;
    public static bool Signed => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = Block32Bits.Half(b + 2);
        var sm = ScalesMins12(b + 4);
        StoreDoubled(sm, false, sc);
        StoreDoubled(sm, true, mn);
        byte* qh = b + 16, qs = b + 48;
        var h = Vector256.Load(qh);
        for (int j = 0; j < 4; j++)
        {
            var q = Vector256.Load(qs + 32 * j);
            ((q & Vector256.Create((byte)0x0F)) | Up(Bits(h, 2 * j, 1), 4)).Store(u + 64 * j);
            (Bits(q, 4, 0xF) | Up(Bits(h, 2 * j + 1, 1), 4)).Store(u + 64 * j + 32);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = Block32Bits.Half(b);
        dmin = Block32Bits.Half(b + 2);
        for (int j = 0; j < 8; j++)
        {
            ScaleMinK4(j, b + 4, out int s, out int m);
            sc[2 * j] = sc[2 * j + 1] = (short)s;
            mn[2 * j] = mn[2 * j + 1] = (short)m;
        }
        byte* qh = b + 16, qs = b + 48;
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
            {
                u[64 * j + l] = (byte)((qs[32 * j + l] & 0xF) | (((qh[l] >> (2 * j)) & 1) << 4));
                u[64 * j + 32 + l] = (byte)((qs[32 * j + l] >> 4) | (((qh[l] >> (2 * j + 1)) & 1) << 4));
            }
    }
}
