using System.Runtime.Intrinsics;
using static Frugal.Numerics.Kernels.KQuantBits;

namespace Frugal.Numerics.Kernels;

/// <summary>block_q6_K: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, d. Element = d·sc·(u - 32).</summary>
internal readonly unsafe struct Q6_KFormat : IKQuantFormat
{
    public static int Bytes => 210;

    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        d = dmin = Block32Bits.Half(b + 208);
        Scales(b, sc, mn);
        for (int n = 0; n < 2; n++)
        {
            byte* ql = b + 64 * n, qh = b + 128 + 32 * n, un = u + 128 * n;
            for (int h = 0; h < 32; h += 16)
            {
                var l0 = Vector128.Load(ql + h);
                var l1 = Vector128.Load(ql + 32 + h);
                var hb = Vector128.Load(qh + h);
                ((l0 & Low4) | Up(Bits(hb, 0, 3), 4)).Store(un + h);
                ((l1 & Low4) | Up(Bits(hb, 2, 3), 4)).Store(un + 32 + h);
                (Bits(l0, 4, 0xF) | Up(Bits(hb, 4, 3), 4)).Store(un + 64 + h);
                (Bits(l1, 4, 0xF) | Up(Bits(hb, 6, 3), 4)).Store(un + 96 + h);
            }
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

    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        Scales(b, sc, mn, out d, out dmin);
        for (int n = 0; n < 2; n++)
            for (int h = 0; h < 32; h += 16)
            {
                var q = Vector128.Load(b + 16 + 32 * n + h);
                for (int j = 0; j < 4; j++)
                    Bits(q, 2 * j, 3).Store(u + 128 * n + 32 * j + h);
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

    public static void Unpack(byte* b, byte* u, short* sc, short* mn, out float d, out float dmin)
    {
        Scales(b, sc, mn, out d, out dmin);
        for (int h = 0; h < 32; h += 16)
        {
            var hm = Vector128.Load(b + h);
            for (int n = 0; n < 2; n++)
            {
                var q = Vector128.Load(b + 32 + 32 * n + h);
                for (int j = 0; j < 4; j++)
                    (Bits(q, 2 * j, 3) | Up(Bits(hm, 4 * n + j, 1), 2)).Store(u + 128 * n + 32 * j + h);
            }
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
        Scales3K(b + 96, s);
        for (int g = 0; g < 16; g++)
        {
            sc[g] = (short)(s[g] - 32);
            mn[g] = (short)(4 * (s[g] - 32));
        }
        d = dmin = Block32Bits.Half(b + 108);
    }
}
