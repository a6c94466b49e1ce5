using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Frugal.Numerics.Quant;

/// <summary>
/// The scale searches shared by the k-quant reference quantizers (ggml-quants.c: make_qx_quants, make_q3_quants,
/// make_qkx2_quants) and the 6-bit scale packing of Q4_K/Q5_K. Float operations are written in ggml's order
/// (no fused multiply-add, no reassociation) so the chosen scales and quants match llama.cpp bit for bit.
/// </summary>
internal static class KQuantScales
{
    /// <summary>Groups whose largest magnitude is below this are treated as all zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// make_qx_quants with rmse_type 1 and no importance weights (weight = x²): symmetric quants in
    /// [-nmax, nmax - 1] stored as l + nmax in <paramref name="levels"/>; returns the scale.
    /// </summary>
    public static float SymmetricSearch(int nmax, ReadOnlySpan<float> x, Span<sbyte> levels)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(GgmlScalar.NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(GgmlScalar.NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++)
                    levels[i] = (sbyte)(nmax + Math.Clamp(GgmlScalar.NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// make_q3_quants with do_rmse: symmetric quants in [-nmax, nmax - 1] refined one element at a time for
    /// up to five passes (weight = x²); stored as l + nmax; returns the scale.
    /// </summary>
    public static float SymmetricRefine(int nmax, ReadOnlySpan<float> x, Span<sbyte> levels)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(GgmlScalar.NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * levels[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * levels[i] * levels[i];
                    int newL = Math.Clamp(GgmlScalar.NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != levels[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            levels[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++)
            levels[i] = (sbyte)(levels[i] + nmax);
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// make_qkx2_quants: asymmetric quants in [0, nmax] with x ≈ scale * l - theMin, trying nstep + 1 candidate
    /// scales around nmax / (max - min) and keeping the one of least weighted error (squared, or absolute when
    /// <paramref name="useMad"/>). Returns the scale; <paramref name="theMin"/> is the (non-negative) offset.
    /// </summary>
    /// <remarks>
    /// The element-wise work of each candidate (its levels, the products w·l, w·l·l, w·l·x and the weighted errors) runs
    /// in 4-lane vectors, separate multiplies and adds as ggml's scalar code does them, so every lane holds the bits the
    /// scalar code would; the sums are then taken one element at a time in ggml's order. ggml's search, with these sums
    /// in their sequential order, decides the bytes, and this is where k-quant quantization spends its time.
    /// </remarks>
    public static float AsymmetricSearch(int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels,
        out float theMin, float rmin, float rdelta, int nstep, bool useMad)
    {
        int n = x.Length;
        if (n % 4 != 0 || n > 32 || weights.Length < n || levels.Length < n)
            throw new ArgumentException($"a sub-block of {n} elements: expected a multiple of 4 up to 32, with as many weights and levels");
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = GgmlScalar.NearestInt(iscale * (x[i] - min));
            levels[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * levels[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }

        Span<float> shifted = stackalloc float[n];  // x - min, as ggml computes it inside each candidate (min moves)
        for (int i = 0; i < n; i++) shifted[i] = x[i] - min;
        Span<int> candidate = stackalloc int[n];
        Span<float> candidateF = stackalloc float[n];
        Span<float> wl = stackalloc float[n], wl2 = stackalloc float[n], wlx = stackalloc float[n];
        ref float x0 = ref MemoryMarshal.GetReference(x), w0 = ref MemoryMarshal.GetReference(weights), s0 = ref MemoryMarshal.GetReference(shifted);
        var top = Vector128.Create(nmax);
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            var vscale = Vector128.Create(iscale);
            for (int i = 0; i < n; i += 4)
            {
                var l = Vector128.Max(Vector128<int>.Zero, Vector128.Min(top, NearestInt(Vector128.LoadUnsafe(ref s0, (nuint)i) * vscale)));
                l.CopyTo(candidate[i..]);
                var lf = Vector128.ConvertToSingle(l);
                lf.CopyTo(candidateF[i..]);
                var a = Vector128.LoadUnsafe(ref w0, (nuint)i) * lf;  // w * l
                a.CopyTo(wl[i..]);
                (a * lf).CopyTo(wl2[i..]);                                // w * l * l
                (a * Vector128.LoadUnsafe(ref x0, (nuint)i)).CopyTo(wlx[i..]);  // w * l * x
            }
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                sumL += wl[i];
                sumL2 += wl2[i];
                sumXL += wlx[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                var vs = Vector128.Create(thisScale);
                var vm = Vector128.Create(thisMin);
                for (int i = 0; i < n; i += 4)
                {
                    var diff = vs * Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(candidateF), (nuint)i) + vm - Vector128.LoadUnsafe(ref x0, (nuint)i);
                    diff = useMad ? Vector128.Abs(diff) : diff * diff;
                    (Vector128.LoadUnsafe(ref w0, (nuint)i) * diff).CopyTo(wl[i..]);
                }
                float error = 0;
                for (int i = 0; i < n; i++) error += wl[i];
                if (error < bestError)
                {
                    for (int i = 0; i < n; i++) levels[i] = (byte)candidate[i];
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                    // ggml's later candidates use the new min, in x - min and in max - min alike.
                    for (int i = 0; i < n; i++) shifted[i] = x[i] - min;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary><see cref="GgmlScalar.NearestInt"/> on four lanes: the same bits as the scalar trick.</summary>
    private static Vector128<int> NearestInt(Vector128<float> value) =>
        ((value + Vector128.Create(12582912f)).AsInt32() & Vector128.Create(0x007fffff)) - Vector128.Create(0x00400000);

    /// <summary>get_scale_min_k4: the 6-bit scale and min of sub-block <paramref name="j"/> (0..7) from the 12 packed bytes.</summary>
    public static void ScaleMinK4(int j, ReadOnlySpan<byte> q, out byte scale, out byte min)
    {
        if (j < 4)
        {
            scale = (byte)(q[j] & 63);
            min = (byte)(q[j + 4] & 63);
        }
        else
        {
            scale = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            min = (byte)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
        }
    }

    /// <summary>The inverse of <see cref="ScaleMinK4"/>, as quantize_row_q4_K_ref packs it (12 bytes, zeroed first).</summary>
    public static void PackScaleMinK4(ReadOnlySpan<byte> scales, ReadOnlySpan<byte> mins, Span<byte> q)
    {
        q[..12].Clear();
        for (int j = 0; j < 8; j++)
        {
            byte ls = scales[j], lm = mins[j];
            if (j < 4)
            {
                q[j] = ls;
                q[j + 4] = lm;
            }
            else
            {
                q[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                q[j - 4] |= (byte)((ls >> 4) << 6);
                q[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }

    /// <summary>
    /// The part of quantize_row_q4_K_ref / quantize_row_q5_K_ref the two share: per 32-element sub-block an
    /// asymmetric scale search weighted by rms + |x|, the 8 scales and mins quantized to 6 bits against their
    /// maxima and packed into <paramref name="packedScales"/>, then every element re-quantized to 0..nmax with the
    /// stored scales into <paramref name="levels"/> [256]. Each format then packs the levels its own way.
    /// </summary>
    public static void ScaleMinSuperBlock(ReadOnlySpan<float> x, int nmax, float rmin, float rdelta, int nstep,
        Span<byte> levels, Span<byte> packedScales, out ushort d, out ushort dMin)
    {
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        Span<byte> ls = stackalloc byte[8];
        Span<byte> lm = stackalloc byte[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
            scales[j] = AsymmetricSearch(nmax, xs, weights, levels.Slice(32 * j, 32), out mins[j], rmin, rdelta, nstep, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < 8; j++)
        {
            ls[j] = Math.Min((byte)63, (byte)GgmlScalar.NearestInt(invScale * scales[j]));
            lm[j] = Math.Min((byte)63, (byte)GgmlScalar.NearestInt(invMin * mins[j]));
        }
        PackScaleMinK4(ls, lm, packedScales);
        d = GgmlScalar.FloatToFp16(maxScale / 63f);
        dMin = GgmlScalar.FloatToFp16(maxMin / 63f);
        float dAll = GgmlScalar.Fp16ToFloat(d), minAll = GgmlScalar.Fp16ToFloat(dMin);
        for (int j = 0; j < 8; j++)
        {
            ScaleMinK4(j, packedScales, out byte sc, out byte m);
            float dj = dAll * sc;
            if (dj == 0) continue;
            float dm = minAll * m;
            for (int ii = 0; ii < 32; ii++)
                levels[32 * j + ii] = (byte)Math.Clamp(GgmlScalar.NearestInt((x[32 * j + ii] + dm) / dj), 0, nmax);
        }
    }
}
