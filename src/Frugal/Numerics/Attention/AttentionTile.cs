using System.Runtime.CompilerServices;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The online-softmax update of query rows by a chunk of keys and values, read 16 at a time ("Self-attention Does Not
/// Need O(n²) Memory", Rabe &amp; Staats; FlashAttention): scores s = q·Kᵀ for the chunk, m' = max(m, max s), the accumulator and
/// denominator rescaled by exp(m - m'), then acc += exp(s - m')·V. Keys come transposed ([headDim][16]) so 16 scores
/// of one query are FMAs of broadcast query elements with key runs, with no horizontal sums; queries are pre-scaled
/// by 1/√headDim.
/// </summary>
internal static unsafe class AttentionTile
{
    private const int T = KvTile.Positions;

    /// <summary>
    /// Scores of four query rows against the tile: s[r·stride + j] = q_r · key_j. Rows share each key load; two
    /// accumulators per row (even and odd d) keep eight FMA chains in flight. headDim is even.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scores4<TVec, TOps>(float* q0, float* q1, float* q2, float* q3, float* kt, int hd, float* s, int stride)
        where TVec : struct where TOps : IFloatLanes<TVec>
    {
        for (int c = 0; c < T; c += TOps.Count)
        {
            TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TVec b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
            float* k = kt + c;
            for (int d = 0; d < hd; d += 2, k += 2 * T)
            {
                TVec k0 = TOps.Load(k), k1 = TOps.Load(k + T);
                a0 = TOps.Fma(TOps.Broadcast(q0[d]), k0, a0);
                a1 = TOps.Fma(TOps.Broadcast(q1[d]), k0, a1);
                a2 = TOps.Fma(TOps.Broadcast(q2[d]), k0, a2);
                a3 = TOps.Fma(TOps.Broadcast(q3[d]), k0, a3);
                b0 = TOps.Fma(TOps.Broadcast(q0[d + 1]), k1, b0);
                b1 = TOps.Fma(TOps.Broadcast(q1[d + 1]), k1, b1);
                b2 = TOps.Fma(TOps.Broadcast(q2[d + 1]), k1, b2);
                b3 = TOps.Fma(TOps.Broadcast(q3[d + 1]), k1, b3);
            }
            TOps.Store(s + c, TOps.Add(a0, b0));
            TOps.Store(s + stride + c, TOps.Add(a1, b1));
            TOps.Store(s + 2 * stride + c, TOps.Add(a2, b2));
            TOps.Store(s + 3 * stride + c, TOps.Add(a3, b3));
        }
    }

    /// <summary>Soft-caps <paramref name="n"/> scores in place: s ← cap · tanh(s / cap), as llama.cpp's attn_soft_cap (Gemma 2).</summary>
    public static void SoftCap(float* s, int n, float cap) => Ops.SoftCap.Apply(new Span<float>(s, n), cap);

    /// <summary>
    /// Turns one row's scores of a chunk <paramref name="s"/> [<paramref name="len"/>, a multiple of 16] into weights
    /// p = exp(s − m') in place, with p exactly 0 outside the visible range [<paramref name="lo"/>, <paramref name="hi"/>)
    /// (hi &gt; lo), and its running max <paramref name="m"/>, denominator <paramref name="l"/> and accumulator
    /// <paramref name="acc"/> [headDim] rescaled to the new max.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Softmax<TVec, TOps>(float* s, int len, int lo, int hi, int hd, ref float m, ref float l, float* acc)
        where TVec : struct where TOps : IFloatLanes<TVec>
    {
        for (int j = 0; j < lo; j++) s[j] = float.NegativeInfinity;
        for (int j = hi; j < len; j++) s[j] = float.NegativeInfinity;
        TVec max = TOps.Load(s);
        for (int c = TOps.Count; c < len; c += TOps.Count) max = TOps.Max(max, TOps.Load(s + c));
        float chunkMax = TOps.HorizontalMax(max);
        if (chunkMax > m)
        {
            // exp(-inf) = 0 on the row's first chunk, which zeroes the (already zero) accumulator.
            float rescale = MathF.Exp(m - chunkMax);
            l *= rescale;
            var r = TOps.Broadcast(rescale);
            for (int d = 0; d < hd; d += TOps.Count) TOps.Store(acc + d, TOps.Multiply(TOps.Load(acc + d), r));
            m = chunkMax;
        }
        var mv = TOps.Broadcast(m);
        for (int c = 0; c < len; c += TOps.Count) TOps.Store(s + c, TOps.ExpOfDifference(TOps.Load(s + c), mv));
        // The exponential is clamped (about 1e-38 at -inf): masked lanes are set to 0 so they add nothing anywhere.
        for (int j = 0; j < lo; j++) s[j] = 0;
        for (int j = hi; j < len; j++) s[j] = 0;
        TVec sum = TOps.Load(s);
        for (int c = TOps.Count; c < len; c += TOps.Count) sum = TOps.Add(sum, TOps.Load(s + c));
        l += TOps.HorizontalSum(sum);
    }

    /// <summary>
    /// acc_r += Σ_j p_r[j] · v_j for four rows at once (p_r at p + r·stride) over the first <paramref name="n"/> values:
    /// each value vector is loaded once for the four rows, and the 4 rows × 4 (or 2) vectors of a head chunk are
    /// sixteen (or eight) independent FMA chains. Every element is summed over j in order whatever the path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Accumulate4<TVec, TOps>(float* p, int stride, int n, float* v, int hd, float* acc0, float* acc1, float* acc2, float* acc3)
        where TVec : struct where TOps : IFloatLanes<TVec>
    {
        int w = TOps.Count, chunk = 4 * w;
        int d4 = hd - hd % chunk, dd = 0;
        for (; dd < d4; dd += chunk)
        {
            TVec a00 = TOps.Load(acc0 + dd), a01 = TOps.Load(acc0 + dd + w), a02 = TOps.Load(acc0 + dd + 2 * w), a03 = TOps.Load(acc0 + dd + 3 * w);
            TVec a10 = TOps.Load(acc1 + dd), a11 = TOps.Load(acc1 + dd + w), a12 = TOps.Load(acc1 + dd + 2 * w), a13 = TOps.Load(acc1 + dd + 3 * w);
            TVec a20 = TOps.Load(acc2 + dd), a21 = TOps.Load(acc2 + dd + w), a22 = TOps.Load(acc2 + dd + 2 * w), a23 = TOps.Load(acc2 + dd + 3 * w);
            TVec a30 = TOps.Load(acc3 + dd), a31 = TOps.Load(acc3 + dd + w), a32 = TOps.Load(acc3 + dd + 2 * w), a33 = TOps.Load(acc3 + dd + 3 * w);
            float* vj = v + dd;
            for (int j = 0; j < n; j++, vj += hd)
            {
                TVec v0 = TOps.Load(vj), v1 = TOps.Load(vj + w), v2 = TOps.Load(vj + 2 * w), v3 = TOps.Load(vj + 3 * w);
                TVec p0 = TOps.Broadcast(p[j]), p1 = TOps.Broadcast(p[stride + j]), p2 = TOps.Broadcast(p[2 * stride + j]), p3 = TOps.Broadcast(p[3 * stride + j]);
                a00 = TOps.Fma(p0, v0, a00); a01 = TOps.Fma(p0, v1, a01); a02 = TOps.Fma(p0, v2, a02); a03 = TOps.Fma(p0, v3, a03);
                a10 = TOps.Fma(p1, v0, a10); a11 = TOps.Fma(p1, v1, a11); a12 = TOps.Fma(p1, v2, a12); a13 = TOps.Fma(p1, v3, a13);
                a20 = TOps.Fma(p2, v0, a20); a21 = TOps.Fma(p2, v1, a21); a22 = TOps.Fma(p2, v2, a22); a23 = TOps.Fma(p2, v3, a23);
                a30 = TOps.Fma(p3, v0, a30); a31 = TOps.Fma(p3, v1, a31); a32 = TOps.Fma(p3, v2, a32); a33 = TOps.Fma(p3, v3, a33);
            }
            TOps.Store(acc0 + dd, a00); TOps.Store(acc0 + dd + w, a01); TOps.Store(acc0 + dd + 2 * w, a02); TOps.Store(acc0 + dd + 3 * w, a03);
            TOps.Store(acc1 + dd, a10); TOps.Store(acc1 + dd + w, a11); TOps.Store(acc1 + dd + 2 * w, a12); TOps.Store(acc1 + dd + 3 * w, a13);
            TOps.Store(acc2 + dd, a20); TOps.Store(acc2 + dd + w, a21); TOps.Store(acc2 + dd + 2 * w, a22); TOps.Store(acc2 + dd + 3 * w, a23);
            TOps.Store(acc3 + dd, a30); TOps.Store(acc3 + dd + w, a31); TOps.Store(acc3 + dd + 2 * w, a32); TOps.Store(acc3 + dd + 3 * w, a33);
        }
        for (; dd + 2 * w <= hd; dd += 2 * w)
        {
            TVec a00 = TOps.Load(acc0 + dd), a01 = TOps.Load(acc0 + dd + w), a10 = TOps.Load(acc1 + dd), a11 = TOps.Load(acc1 + dd + w);
            TVec a20 = TOps.Load(acc2 + dd), a21 = TOps.Load(acc2 + dd + w), a30 = TOps.Load(acc3 + dd), a31 = TOps.Load(acc3 + dd + w);
            float* vj = v + dd;
            for (int j = 0; j < n; j++, vj += hd)
            {
                TVec v0 = TOps.Load(vj), v1 = TOps.Load(vj + w);
                TVec p0 = TOps.Broadcast(p[j]), p1 = TOps.Broadcast(p[stride + j]), p2 = TOps.Broadcast(p[2 * stride + j]), p3 = TOps.Broadcast(p[3 * stride + j]);
                a00 = TOps.Fma(p0, v0, a00); a01 = TOps.Fma(p0, v1, a01);
                a10 = TOps.Fma(p1, v0, a10); a11 = TOps.Fma(p1, v1, a11);
                a20 = TOps.Fma(p2, v0, a20); a21 = TOps.Fma(p2, v1, a21);
                a30 = TOps.Fma(p3, v0, a30); a31 = TOps.Fma(p3, v1, a31);
            }
            TOps.Store(acc0 + dd, a00); TOps.Store(acc0 + dd + w, a01); TOps.Store(acc1 + dd, a10); TOps.Store(acc1 + dd + w, a11);
            TOps.Store(acc2 + dd, a20); TOps.Store(acc2 + dd + w, a21); TOps.Store(acc3 + dd, a30); TOps.Store(acc3 + dd + w, a31);
        }
        for (; dd < hd; dd += w)
        {
            TVec a0 = TOps.Load(acc0 + dd), a1 = TOps.Load(acc1 + dd), a2 = TOps.Load(acc2 + dd), a3 = TOps.Load(acc3 + dd);
            float* vj = v + dd;
            for (int j = 0; j < n; j++, vj += hd)
            {
                TVec vv = TOps.Load(vj);
                a0 = TOps.Fma(TOps.Broadcast(p[j]), vv, a0);
                a1 = TOps.Fma(TOps.Broadcast(p[stride + j]), vv, a1);
                a2 = TOps.Fma(TOps.Broadcast(p[2 * stride + j]), vv, a2);
                a3 = TOps.Fma(TOps.Broadcast(p[3 * stride + j]), vv, a3);
            }
            TOps.Store(acc0 + dd, a0); TOps.Store(acc1 + dd, a1); TOps.Store(acc2 + dd, a2); TOps.Store(acc3 + dd, a3);
        }
    }
}
