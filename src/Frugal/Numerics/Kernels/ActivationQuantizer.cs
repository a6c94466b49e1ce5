using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Kernels;

/// <summary>
/// Quantizes f32 activation rows into <see cref="QuantizedRows"/>, the 8-bit operand of the integer-dot kernels.
/// Rounding follows ggml so results track llama.cpp: Q8_0 as its x86 quantize_row_q8_0 (d = amax/127 stored as
/// fp16, q = round-half-even(x·127/amax)); Q8_K as quantize_row_q8_K_ref (iscale = -127/max of the signed
/// largest-magnitude value, q = min(127, nearest_int(iscale·x)), d = 1/iscale). Each has a scalar twin giving
/// bit-identical output.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>One row of <paramref name="cols"/> (a multiple of 32) into the Q8_0 form.</summary>
    public static void Q8_0Row(float* x, int cols, sbyte* qs, float* scales, bool simd)
    {
        int nb = cols / 32;
        for (int b = 0; b < nb; b++)
        {
            float* xb = x + b * 32;
            sbyte* qb = qs + b * 32;
            float d;
            int sum;
            if (simd && Vector256.IsHardwareAccelerated)
                (d, sum) = Q8_0BlockVector(xb, qb);
            else
                (d, sum) = Q8_0BlockScalar(xb, qb);
            float* s = scales + (b >> 1) * 4 + (b & 1);
            s[0] = d;
            s[2] = d * sum / 8;
        }
        if ((nb & 1) == 1)
        {
            // Odd block count: the missing partner of the last pair contributes nothing.
            float* s = scales + (nb >> 1) * 4 + 1;
            s[0] = 0;
            s[2] = 0;
            new Span<sbyte>(qs + nb * 32, 32).Clear();
        }
    }

    private static (float D, int Sum) Q8_0BlockScalar(float* x, sbyte* q)
    {
        float amax = 0;
        for (int j = 0; j < 32; j++)
            amax = MathF.Max(amax, MathF.Abs(x[j]));
        float id = amax != 0 ? 127f / amax : 0f;
        int sum = 0;
        for (int j = 0; j < 32; j++)
        {
            int v = (int)MathF.Round(x[j] * id, MidpointRounding.ToEven);
            q[j] = (sbyte)v;
            sum += v;
        }
        return ((float)(Half)(amax / 127f), sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float D, int Sum) Q8_0BlockVector(float* x, sbyte* q)
    {
        var v0 = Vector256.Load(x);
        var v1 = Vector256.Load(x + 8);
        var v2 = Vector256.Load(x + 16);
        var v3 = Vector256.Load(x + 24);
        var m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        float amax = HorizontalMax(m);
        var id = Vector256.Create(amax != 0 ? 127f / amax : 0f);
        var i0 = Vector256.ConvertToInt32(Vector256.Round(v0 * id));
        var i1 = Vector256.ConvertToInt32(Vector256.Round(v1 * id));
        var i2 = Vector256.ConvertToInt32(Vector256.Round(v2 * id));
        var i3 = Vector256.ConvertToInt32(Vector256.Round(v3 * id));
        var packed = Vector256.Narrow(Vector256.Narrow(i0, i1), Vector256.Narrow(i2, i3));
        packed.Store(q);
        int sum = Vector256.Sum(i0 + i1 + i2 + i3);
        return ((float)(Half)(amax / 127f), sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }

    /// <summary>One row of <paramref name="cols"/> (a multiple of 256) into the Q8_K form.</summary>
    public static void Q8_KRow(float* x, int cols, sbyte* qs, float* d, short* bsums, bool simd)
    {
        int nb = cols / 256;
        for (int b = 0; b < nb; b++)
        {
            float* xb = x + b * 256;
            sbyte* qb = qs + b * 256;
            // The signed value of largest magnitude (first one on ties), as ggml picks it.
            float amax = 0, max = 0;
            if (simd && Vector256.IsHardwareAccelerated)
            {
                var m = Vector256<float>.Zero;
                for (int j = 0; j < 256; j += 8)
                    m = Vector256.Max(m, Vector256.Abs(Vector256.Load(xb + j)));
                amax = HorizontalMax(m);
                for (int j = 0; j < 256; j++)
                    if (MathF.Abs(xb[j]) == amax) { max = xb[j]; break; }
            }
            else
            {
                for (int j = 0; j < 256; j++)
                {
                    float ax = MathF.Abs(xb[j]);
                    if (ax > amax) { amax = ax; max = xb[j]; }
                }
            }
            short* bs = bsums + b * 16;
            if (amax == 0)
            {
                d[b] = 0;
                new Span<sbyte>(qb, 256).Clear();
                new Span<short>(bs, 16).Clear();
                continue;
            }
            float iscale = -127f / max;
            if (simd && Vector256.IsHardwareAccelerated)
            {
                var vs = Vector256.Create(iscale);
                var top = Vector256.Create(127);
                for (int g = 0; g < 16; g++)
                {
                    var i0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + g * 16) * vs)), top);
                    var i1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(xb + g * 16 + 8) * vs)), top);
                    var s16 = Vector256.Narrow(i0, i1);
                    Vector128.Narrow(s16.GetLower(), s16.GetUpper()).Store(qb + g * 16);
                    bs[g] = (short)Vector256.Sum(i0 + i1);
                }
            }
            else
            {
                for (int g = 0; g < 16; g++)
                {
                    int sum = 0;
                    for (int j = g * 16; j < g * 16 + 16; j++)
                    {
                        int v = Math.Min(127, (int)MathF.Round(iscale * xb[j], MidpointRounding.ToEven));
                        qb[j] = (sbyte)v;
                        sum += v;
                    }
                    bs[g] = (short)sum;
                }
            }
            d[b] = 1 / iscale;
        }
    }
}
