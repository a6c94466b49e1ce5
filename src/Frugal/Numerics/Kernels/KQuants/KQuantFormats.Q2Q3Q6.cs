using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Frugal.Numerics.Kernels.KQuantBits;

namespace Frugal.Numerics.Kernels;

/// <summary>block_q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, d. Element = d·sc·(u - 32).</summary>
internal readonly unsafe struct Q6_KFormat : IKQuantFormat
{
    public static int Bytes => 210;
    public static bool SharedScale => true;
    public static bool Signed => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = dmin = Block32Bits.Half(b + 208);
        var s = Vector128.Load((sbyte*)(b + 192));
        StoreWidened(s, sc);
        Vector256.ShiftLeft(Vector256.Load(sc), 5).Store(mn);
        for (int n = 0; n < 2; n++)
        {
            byte* ql = b + 64 * n, qh = b + 128 + 32 * n, un = u + 128 * n;
            var l0 = Vector256.Load(ql);
            var l1 = Vector256.Load(ql + 32);
            var hb = Vector256.Load(qh);
            ((l0 & Vector256.Create((byte)0x0F)) | Up(Bits(hb, 0, 3), 4)).Store(un);
            ((l1 & Vector256.Create((byte)0x0F)) | Up(Bits(hb, 2, 3), 4)).Store(un + 32);
            (Bits(l0, 4, 0xF) | Up(Bits(hb, 4, 3), 4)).Store(un + 64);
            (Bits(l1, 4, 0xF) | Up(Bits(hb, 6, 3), 4)).Store(un + 96);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = dmin = Block32Bits.Half(b + 208);
        Scales(b, sc, mn);
        for (int n = 0; n < 2; n++)
        {
            byte* ql = b + 64 * n, qh = b + 128 + 32 * n, un = u + 128 * n;
            for (int l = 0; l < 32; l++)
            {
                un[l] = (byte)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
                un[l + 32] = (byte)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
                un[l + 64] = (byte)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                un[l + 96] = (byte)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        }
    }

    private static void Scales(byte* b, short* sc, short* mn)
    {
        var s = (sbyte*)(b + 192);
        for (int g = 0; g < 16; g++)
        {
            sc[g] = s[g];
            mn[g] = (short)(32 * s[g]);
        }
    }
}

/// <summary>block_q2_K: 16 bytes of 4-bit scale|min, 64 bytes of 2-bit quants, d, dmin.</summary>
internal readonly unsafe struct Q2_KFormat : IKQuantFormat
{
    public static int Bytes => 84;
    public static bool SharedScale => false;
    public static bool Signed => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        var s = Vector128.Load(b);
        StoreWidened((s & Vector128.Create((byte)0x0F)).AsSByte(), sc);
        StoreWidened(Bits(s, 4, 0xF).AsSByte(), mn);
        d = Block32Bits.Half(b + 80);
        dmin = Block32Bits.Half(b + 82);
        for (int n = 0; n < 2; n++)
        {
            var q = Vector256.Load(b + 16 + 32 * n);
            for (int j = 0; j < 4; j++)
                Bits(q, 2 * j, 3).Store(u + 128 * n + 32 * j);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        Scales(b, sc, mn, out d, out dmin);
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++)
                    u[128 * n + 32 * j + l] = (byte)((b[16 + 32 * n + l] >> (2 * j)) & 3);
    }

    private static void Scales(byte* b, short* sc, short* mn, out float d, out float dmin)
    {
        for (int g = 0; g < 16; g++)
        {
            sc[g] = (short)(b[g] & 0xF);
            mn[g] = (short)(b[g] >> 4);
        }
        d = Block32Bits.Half(b + 80);
        dmin = Block32Bits.Half(b + 82);
    }
}

/// <summary>block_q3_K: 32 bytes high-bit mask, 64 bytes 2-bit quants, 12 bytes 6-bit scales, d. Element = d·(sc-32)·(u - 4).</summary>
internal readonly unsafe struct Q3_KFormat : IKQuantFormat
{
    public static int Bytes => 110;
    public static bool SharedScale => true;
    public static bool Signed => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        var s = (Scales3K(b + 96) - Vector128.Create((byte)32)).AsSByte();
        StoreWidened(s, sc);
        Vector256.ShiftLeft(Vector256.Load(sc), 2).Store(mn);
        d = dmin = Block32Bits.Half(b + 108);
        var hm = Vector256.Load(b);
        for (int n = 0; n < 2; n++)
        {
            var q = Vector256.Load(b + 32 + 32 * n);
            for (int j = 0; j < 4; j++)
                (Bits(q, 2 * j, 3) | Up(Bits(hm, 4 * n + j, 1), 2)).Store(u + 128 * n + 32 * j);
        }
    }

    public static void UnpackScalar(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        Scales(b, sc, mn, out d, out dmin);
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++)
                    u[128 * n + 32 * j + l] = (byte)(((b[32 + 32 * n + l] >> (2 * j)) & 3) | (((b[l] >> (4 * n + j)) & 1) << 2));
    }

    private static void Scales(byte* b, short* sc, short* mn, out float d, out float dmin)
    {
        byte* s = stackalloc byte[16];
        Scales3K(b + 96).Store(s);
        for (int g = 0; g < 16; g++)
        {
            sc[g] = (short)(s[g] - 32);
            mn[g] = (short)(4 * (s[g] - 32));
        }
        d = dmin = Block32Bits.Half(b + 108);
    }
}
