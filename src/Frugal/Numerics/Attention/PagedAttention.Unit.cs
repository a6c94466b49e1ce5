namespace Frugal.Numerics.Attention;

public sealed unsafe partial class PagedAttention
{
    /// <summary>
    /// One unit: gather its query rows (scaled, rotated as the keys are), stream its key range a chunk of
    /// <see cref="ChunkPositions"/> at a time, write or park the result. Per chunk: the scores of every row against its
    /// key tiles, then one softmax update per row (one running-max rescale and two horizontal reductions per chunk, not
    /// per 16-key tile: at a few rows those per-tile steps were most of the time), then the values tile by tile.
    /// Chunks are cut at absolute multiples of <see cref="ChunkPositions"/> and masked lanes weigh exactly 0, so a row's
    /// result does not depend on which other rows share its step (speculative verification must match plain decode).
    /// </summary>
    private void RunUnit<TVec, TOps>(in Unit u, float* scratch) where TVec : struct where TOps : IFloatLanes<TVec>
    {
        const int T = KvTile.Positions, C = ChunkPositions;
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
        float* s = row + hd;                   // [rows + 3, C] scores, then weights, of the chunk (3 rows of slack for the last quad)
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
        float* spare = acc + rows * hd;
        for (int c0 = u.KeyStart, c1; c0 < keyEnd; c0 = c1)
        {
            c1 = Math.Min((c0 / C + 1) * C, keyEnd);
            // Rows are ordered by position, so the ones that see this chunk are a range [first, last): past their causal
            // limit before it, past their window's start after it.
            int first = 0, last = rows;
            while (first < rows && lim[first] < c0) first++;
            while (last > first && low[last - 1] > c1 - 1) last--;
            if (first == last) continue;
            int tiles = (c1 - c0 + T - 1) / T;

            for (int t = 0; t < tiles; t++)
            {
                int p0 = c0 + t * T;
                KvTile.LoadKeys(_layer, table[p0 / bs], p0, u.KvHead, kt);
                for (int r = first; r < last; r += 4)
                {
                    int r1 = Math.Min(r + 1, last - 1), r2 = Math.Min(r + 2, last - 1), r3 = Math.Min(r + 3, last - 1);
                    AttentionTile.Scores4<TVec, TOps>(qs + r * hd, qs + r1 * hd, qs + r2 * hd, qs + r3 * hd, kt, hd, s + r * C + t * T, C);
                }
            }
            for (int r = first; r < last; r++)
            {
                float* sr = s + r * C;
                if (_softCap > 0) AttentionTile.SoftCap(sr, tiles * T, _softCap);
                int lo = Math.Max(0, (int)low[r] - c0), hi = Math.Min(c1, (int)lim[r] + 1) - c0;
                AttentionTile.Softmax<TVec, TOps>(sr, tiles * T, lo, hi, hd, ref m[r], ref l[r], acc + r * hd);
            }
            for (int t = 0; t < tiles; t++)
            {
                int p0 = c0 + t * T, valid = Math.Min(T, c1 - p0);
                int tf = first, tl = last;
                while (tf < tl && lim[tf] < p0) tf++;
                while (tl > tf && low[tl - 1] > p0 + valid - 1) tl--;
                if (tf == tl) continue;
                KvTile.LoadValues(_layer, table[p0 / bs], p0 % bs / T, u.KvHead, valid, v);
                for (int r = tf; r < tl; r += 4)
                {
                    // The quad's last row sees the most of the tile; the others' weights past their limit are exactly 0.
                    int n = Math.Min(valid, (int)lim[Math.Min(r + 3, tl - 1)] - p0 + 1);
                    AttentionTile.Accumulate4<TVec, TOps>(s + r * C + t * T, C, n, v, hd, acc + r * hd,
                        r + 1 < tl ? acc + (r + 1) * hd : spare, r + 2 < tl ? acc + (r + 2) * hd : spare, r + 3 < tl ? acc + (r + 3) * hd : spare);
                }
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
