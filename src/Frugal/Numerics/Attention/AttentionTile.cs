using System.Runtime.CompilerServices;

namespace Frugal.Numerics.Attention;

/// <summary>
/// The online-softmax update of query rows by one tile of 16 keys and values ("Self-attention Does Not Need O(n²)
/// Memory", Rabe &amp; Staats; FlashAttention): scores s = q·Kᵀ for the tile, m' = max(m, max s), the accumulator and
/// denominator rescaled by exp(m - m'), then acc += exp(s - m')·V. Keys come transposed ([headDim][16]) so 16 scores
/// of one query are FMAs of broadcast query elements with key runs, with no horizontal sums; queries are pre-scaled
/// by 1/√headDim.
/// </summary>
internal static unsafe class AttentionTile
{
    private const int T = KvTile.Positions;

    /// <summary>
    /// Scores of four query rows against the tile: s[r·16 + j] = q_r · key_j. Rows share each key load; two
    /// accumulators per row (even and odd d) keep eight FMA chains in flight. headDim is even.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scores4<TVec, TOps>(float* q0, float* q1, float* q2, float* q3, float* kt, int hd, float* s)
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
            TOps.Store(s + T + c, TOps.Add(a1, b1));
            TOps.Store(s + 2 * T + c, TOps.Add(a2, b2));
            TOps.Store(s + 3 * T + c, TOps.Add(a3, b3));
        }
    }

    /// <summary>
    /// Folds one row's tile scores <paramref name="s"/> [16] (only the first <paramref name="n"/> are keys it may see)
    /// into its running max <paramref name="m"/>, denominator <paramref name="l"/> and accumulator
    /// <paramref name="acc"/> [headDim], with values <paramref name="v"/> [n][headDim].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Update<TVec, TOps>(float* s, int n, float* v, int hd, ref float m, ref float l, float* acc)
        where TVec : struct where TOps : IFloatLanes<TVec>
    {
        for (int j = n; j < T; j++) s[j] = float.NegativeInfinity;
        TVec max = TOps.Load(s);
        for (int c = TOps.Count; c < T; c += TOps.Count) max = TOps.Max(max, TOps.Load(s + c));
        float tileMax = TOps.HorizontalMax(max);
        if (tileMax > m)
        {
            // exp(-inf) = 0 on the row's first tile, which zeroes the (already zero) accumulator.
            float rescale = MathF.Exp(m - tileMax);
            l *= rescale;
            var r = TOps.Broadcast(rescale);
            for (int d = 0; d < hd; d += TOps.Count) TOps.Store(acc + d, TOps.Multiply(TOps.Load(acc + d), r));
            m = tileMax;
        }
        var mv = TOps.Broadcast(m);
        TVec sum = TOps.Zero;
        for (int c = 0; c < T; c += TOps.Count)
        {
            var p = TOps.ExpOfDifference(TOps.Load(s + c), mv);
            TOps.Store(s + c, p);
            sum = TOps.Add(sum, p);
        }
        l += TOps.HorizontalSum(sum);

        // acc += Σ_j p_j · v_j, four vectors of the head at a time so four FMA chains run side by side.
        int d4 = hd - hd % (4 * TOps.Count);
        int dd = 0;
        for (; dd < d4; dd += 4 * TOps.Count)
        {
            float* a = acc + dd;
            TVec a0 = TOps.Load(a), a1 = TOps.Load(a + TOps.Count), a2 = TOps.Load(a + 2 * TOps.Count), a3 = TOps.Load(a + 3 * TOps.Count);
            float* vj = v + dd;
            for (int j = 0; j < n; j++, vj += hd)
            {
                var p = TOps.Broadcast(s[j]);
                a0 = TOps.Fma(p, TOps.Load(vj), a0);
                a1 = TOps.Fma(p, TOps.Load(vj + TOps.Count), a1);
                a2 = TOps.Fma(p, TOps.Load(vj + 2 * TOps.Count), a2);
                a3 = TOps.Fma(p, TOps.Load(vj + 3 * TOps.Count), a3);
            }
            TOps.Store(a, a0);
            TOps.Store(a + TOps.Count, a1);
            TOps.Store(a + 2 * TOps.Count, a2);
            TOps.Store(a + 3 * TOps.Count, a3);
        }
        for (; dd < hd; dd += TOps.Count)
        {
            TVec a0 = TOps.Load(acc + dd);
            float* vj = v + dd;
            for (int j = 0; j < n; j++, vj += hd)
                a0 = TOps.Fma(TOps.Broadcast(s[j]), TOps.Load(vj), a0);
            TOps.Store(acc + dd, a0);
        }
    }
}
