namespace Frugal.Numerics.Attention;

public sealed unsafe partial class PagedAttention
{
    /// <summary>One unit: gather its query rows (scaled, rotated as the keys are), stream its key range tile by tile, write or park the result.</summary>
    private void RunUnit<TVec, TOps>(in Unit u, float* scratch) where TVec : struct where TOps : IFloatLanes<TVec>
    {
        const int T = KvTile.Positions;
        int hd = _headDim, group = _group, qDim = _heads * hd;
        int rows = u.Rows * group;
        var seq = _seqs[u.Seq];
        float* qs = scratch;                   // [rows, hd] this unit's queries, pre-scaled
        float* acc = qs + rows * hd;           // [rows + 1, hd]: the last row is a sink for a quad's missing rows
        float* m = acc + (rows + 1) * hd;      // [rows]
        float* l = m + rows;                   // [rows]
        float* lim = l + rows;                 // [rows] last visible position (as float: exact below 2^24)
        float* low = lim + rows;               // [rows] first visible position (the sliding window's start; ≤ 0 without one)
        float* kt = low + rows;                // [hd, 16]
        float* v = kt + T * hd;                // [16, hd]
        float* row = v + T * hd;               // [hd]
        float* s = row + hd;                   // [4, 16]
        float scale = _scale;

        for (int i = 0; i < u.Rows; i++)
            for (int g = 0; g < group; g++)
            {
                int r = i * group + g;
                float* src = _q + (long)(seq.Row + u.Row0 + i) * qDim + (u.KvHead * group + g) * hd;
                for (int d = 0; d < hd; d++) qs[r * hd + d] = src[d] * scale;
                if (_layer.Types.RotateKeys) WalshHadamard.Transform(qs + r * hd, hd);   // keys are stored rotated: (Hq)·(Hk) = q·k
                new Span<float>(acc + r * hd, hd).Clear();
                m[r] = float.NegativeInfinity;
                l[r] = 0;
                lim[r] = seq.Start + u.Row0 + i;
                low[r] = _window > 0 ? lim[r] - _window + 1 : 0;
            }

        int bs = _layer.BlockSize;
        int* table = _tables + seq.TableOffset;
        int keyEnd = Math.Min(u.KeyEnd, seq.Start + u.Row0 + u.Rows);
        for (int p0 = u.KeyStart; p0 < keyEnd; p0 += T)
        {
            int block = table[p0 / bs], tile = p0 % bs / T, valid = Math.Min(T, keyEnd - p0);
            KvTile.LoadKeys(_layer, block, p0, u.KvHead, kt);
            KvTile.LoadValues(_layer, block, tile, u.KvHead, valid, v);
            // Rows are ordered by position, so the ones that see this tile are a range [first, last): past their causal
            // limit before it, past their window's start after it.
            int first = 0, last = rows;
            while (first < rows && lim[first] < p0) first++;
            while (last > first && low[last - 1] > p0 + valid - 1) last--;
            for (int r = first; r < last; r += 4)
            {
                int r1 = Math.Min(r + 1, last - 1), r2 = Math.Min(r + 2, last - 1), r3 = Math.Min(r + 3, last - 1);
                AttentionTile.Scores4<TVec, TOps>(qs + r * hd, qs + r1 * hd, qs + r2 * hd, qs + r3 * hd, kt, hd, s);
                if (_softCap > 0) AttentionTile.SoftCap(s, 4 * T, _softCap);
                int nMax = 0;
                for (int k = 0; k < 4; k++)
                {
                    int rr = r + k;
                    if (rr >= last) { new Span<float>(s + k * T, T).Clear(); continue; }   // a missing row of the last quad weighs nothing
                    int n = Math.Min(valid, (int)lim[rr] - p0 + 1);
                    for (int j = 0, j0 = Math.Min(n, (int)low[rr] - p0); j < j0; j++) s[k * T + j] = float.NegativeInfinity;   // before the window
                    nMax = Math.Max(nMax, n);
                    AttentionTile.Softmax<TVec, TOps>(s + k * T, n, hd, ref m[rr], ref l[rr], acc + rr * hd);
                }
                // Rows past the end of the last quad accumulate into the spare row after the unit's accumulators.
                float* spare = acc + rows * hd;
                AttentionTile.Accumulate4<TVec, TOps>(s, nMax, v, hd, acc + r * hd,
                    r + 1 < last ? acc + (r + 1) * hd : spare, r + 2 < last ? acc + (r + 2) * hd : spare, r + 3 < last ? acc + (r + 3) * hd : spare);
            }
        }

        if (u.Partial < 0)
        {
            for (int i = 0; i < u.Rows; i++)
                for (int g = 0; g < group; g++)
                {
                    int r = i * group + g;
                    float* dst = _output + (long)(seq.Row + u.Row0 + i) * qDim + (u.KvHead * group + g) * hd;
                    float inv = 1f / l[r];
                    for (int d = 0; d < hd; d++) dst[d] = acc[r * hd + d] * inv;
                }
            return;
        }
        fixed (float* partials = _partials)
        {
            float* p = partials + (long)u.Partial * _rowsPerUnit * group * (hd + 2);
            for (int r = 0; r < rows; r++, p += hd + 2)
            {
                new ReadOnlySpan<float>(acc + r * hd, hd).CopyTo(new Span<float>(p, hd));
                p[hd] = m[r];
                p[hd + 1] = l[r];
            }
        }
    }

    /// <summary>Combines the split units' partial states: out = Σ acc_k·e^(m_k−M) / Σ l_k·e^(m_k−M), M = max m_k.</summary>
    private void MergePartials()
    {
        int hd = _headDim, group = _group, qDim = _heads * hd, stride = _rowsPerUnit * group * (hd + 2);
        fixed (float* partials = _partials)
            for (int ui = 0; ui < _unitCount;)
            {
                var u = _units[ui];
                if (u.Partial < 0) { ui++; continue; }
                var seq = _seqs[u.Seq];
                int rows = u.Rows * group;
                for (int r = 0; r < rows; r++)
                {
                    float mMax = float.NegativeInfinity;
                    for (int k = 0; k < u.Splits; k++)
                        mMax = MathF.Max(mMax, partials[(long)(u.Partial + k) * stride + r * (hd + 2) + hd]);
                    float* dst = _output + (long)(seq.Row + u.Row0 + r / group) * qDim + (u.KvHead * group + r % group) * hd;
                    new Span<float>(dst, hd).Clear();
                    float denominator = 0;
                    for (int k = 0; k < u.Splits; k++)
                    {
                        float* p = partials + (long)(u.Partial + k) * stride + r * (hd + 2);
                        if (p[hd + 1] == 0) continue;   // this chunk lies wholly past the row's causal limit
                        float w = MathF.Exp(p[hd] - mMax);
                        denominator += p[hd + 1] * w;
                        for (int d = 0; d < hd; d++) dst[d] += p[d] * w;
                    }
                    float inv = 1f / denominator;
                    for (int d = 0; d < hd; d++) dst[d] *= inv;
                }
                ui += u.Splits;
            }
    }
}
