using System.Numerics.Tensors;

namespace Frugal.Train.Model;

public sealed partial class SequencePass
{
    private readonly float[] _dx, _dn;       // [T, dim] residual-stream gradient, gradient at a norm's output
    private readonly float[] _dF, _dG;       // [T, ffn] gradient scratch for up/act and gate
    private readonly float[] _dq, _dk, _dv;  // [T, dim], [T, kvDim], [T, kvDim]
    private readonly float[] _dsq;           // [T, T]
    private readonly float[] _dh;            // [T, hd]

    /// <summary>
    /// Forward, cross-entropy against <paramref name="targets"/> (-1 = not scored) and backward; gradients of
    /// gradScale · Σ weight·loss accumulate into <see cref="Gradients"/> (weight 1 where <paramref name="weights"/> is
    /// empty). Returns the unweighted Σ loss over scored positions (nats).
    /// </summary>
    public double TrainStep(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, float gradScale, ReadOnlySpan<float> weights = default)
    {
        if (!weights.IsEmpty && weights.Length != tokens.Length) throw new ArgumentException($"weights ({weights.Length}) must match tokens ({tokens.Length})");
        int T = tokens.Length, D = _s.Dim, V = _s.Vocab;
        if (targets.Length != T) throw new ArgumentException($"targets ({targets.Length}) must match tokens ({T})");
        Forward(tokens);
        double loss = 0;
        for (int t = 0; t < T; t++)
        {
            var row = _logits.AsSpan(t * V, V);
            if (targets[t] < 0) { row.Clear(); continue; }
            Ops.StableSoftMax(row, row);
            loss -= Math.Log(Math.Max(row[targets[t]], 1e-30f));
            row[targets[t]] -= 1f;
            TensorPrimitives.Multiply(row, weights.IsEmpty ? gradScale : gradScale * weights[t], row);
        }
        Backward(tokens);
        return loss;
    }

    private void Backward(ReadOnlySpan<int> tokens)
    {
        int T = tokens.Length, D = _s.Dim, F = _s.FfnDim, V = _s.Vocab;
        var P = _w.Values;
        var PT = _w.Transposed;
        var G = Gradients;
        var lay = _w.Layout;
        var dlogits = _logits.AsSpan(0, T * V);

        // logits = xf · Eᵀ (tied): dE += dlogitsᵀ · xf, dxf = dlogits · E.
        MatMul.Transpose(dlogits, _tA, T, V);
        MatMul.Transpose(_xf, _tB, T, D);
        MatMul.ABt(_tA, _tB, G.AsSpan(lay.TokenEmbedding), V, D, T, accumulate: true);
        MatMul.ABt(dlogits, PT.AsSpan(lay.TokenEmbedding), _dn, T, D, V);
        var dx = _dx.AsSpan(0, T * D);
        dx.Clear();
        Ops.RmsNormBackward(_xOut, P.AsSpan(lay.OutputNorm, D), _invF, _dn, dx, G.AsSpan(lay.OutputNorm, D), _tA, T, D);

        for (int l = _s.Layers - 1; l >= 0; l--)
        {
            var o = lay.Layers[l];
            // FFN: out = act · Wdownᵀ.
            LinearBackward(dx, _act[l], o.Wdown, T, D, F, _dF);
            var dAct = _dF.AsSpan(0, T * F);
            var dG = _dG.AsSpan(0, T * F);
            var g = _g[l].AsSpan(0, T * F);
            var u = _u[l].AsSpan(0, T * F);
            for (int i = 0; i < T * F; i++)
            {
                float sg = Ops.Sigmoid(g[i]);
                float silu = g[i] * sg;
                dG[i] = dAct[i] * u[i] * sg * (1f + g[i] * (1f - sg));
                dAct[i] *= silu;   // now d(up)
            }
            LinearBackward(dG, _xn2[l], o.Wgate, T, F, D, _dn);
            LinearBackward(dAct, _xn2[l], o.Wup, T, F, D, _dn, accumulateInput: true);
            Ops.RmsNormBackward(_xMid[l], P.AsSpan(o.FfnNorm, D), _inv2[l], _dn, dx, G.AsSpan(o.FfnNorm, D), _tA, T, D);

            // Attention: out = att · Woᵀ.
            LinearBackward(dx, _att[l], o.Wo, T, D, D, _dn);
            AttentionBackward(l, T, _dn);
            Ops.Rope(_dq, T, _s.Heads, _s.HeadDim, 0, _w.Rope, sign: -1f);
            Ops.Rope(_dk, T, _s.KvHeads, _s.HeadDim, 0, _w.Rope, sign: -1f);
            LinearBackward(_dq, _xn1[l], o.Wq, T, D, D, _dn);
            LinearBackward(_dk, _xn1[l], o.Wk, T, _s.KvDim, D, _dn, accumulateInput: true);
            LinearBackward(_dv, _xn1[l], o.Wv, T, _s.KvDim, D, _dn, accumulateInput: true);
            Ops.RmsNormBackward(_xIn[l], P.AsSpan(o.AttnNorm, D), _inv1[l], _dn, dx, G.AsSpan(o.AttnNorm, D), _tA, T, D);
        }

        // Embedding lookup: dE[token] += dx[t].
        for (int t = 0; t < T; t++)
        {
            var row = G.AsSpan(lay.TokenEmbedding + tokens[t] * D, D);
            TensorPrimitives.Add(row, dx.Slice(t * D, D), row);
        }
    }

    /// <summary>
    /// For y[T, outDim] = x[T, inDim] · Wᵀ: dW += dyᵀ · x and dx (=|+=) dy · W. W is at <paramref name="offset"/>.
    /// </summary>
    private void LinearBackward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int offset, int T, int outDim, int inDim,
        Span<float> dxOut, bool accumulateInput = false)
    {
        MatMul.Transpose(dy, _tA, T, outDim);
        MatMul.Transpose(x, _tB, T, inDim);
        MatMul.ABt(_tA, _tB, Gradients.AsSpan(offset, outDim * inDim), outDim, inDim, T, accumulate: true);
        MatMul.ABt(dy, _w.Transposed.AsSpan(offset, outDim * inDim), dxOut, T, inDim, outDim, accumulateInput);
    }

    /// <summary>From d(att) [T, dim] to _dq, _dk, _dv (q and k still rotated).</summary>
    private void AttentionBackward(int l, int T, ReadOnlySpan<float> dAtt)
    {
        int hd = _s.HeadDim, D = _s.Dim, KvD = _s.KvDim, group = _s.Heads / _s.KvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        _dk.AsSpan(0, T * KvD).Clear();
        _dv.AsSpan(0, T * KvD).Clear();
        for (int h = 0; h < _s.Heads; h++)
        {
            int kvh = h / group;
            var p = _p[l].AsSpan(h * T * T, T * T);
            Gather(dAtt, D, h * hd, _oh, T, hd);                       // dO [T, hd]
            Gather(_v[l], KvD, kvh * hd, _qh, T, hd);                  // V [T, hd]
            var dp = _dsq.AsSpan(0, T * T);
            MatMul.ABt(_oh, _qh, dp, T, T, hd);                         // dP = dO · Vᵀ
            MatMul.Transpose(p, _tA, T, T);                             // Pᵀ
            MatMul.Transpose(_oh, _tB, T, hd);                          // dOᵀ [hd, T]
            MatMul.ABt(_tA, _tB, _dh, T, hd, T);                        // dV = Pᵀ · dO
            Scatter(_dh, _dv, KvD, kvh * hd, T, hd, accumulate: true);
            for (int t = 0; t < T; t++)
            {
                var pr = p.Slice(t * T, t + 1);
                var dr = dp.Slice(t * T, T);
                float dot = TensorPrimitives.Dot(pr, dr[..(t + 1)]);
                for (int s = 0; s <= t; s++) dr[s] = pr[s] * (dr[s] - dot) * scale;
                dr[(t + 1)..].Clear();
            }                                                           // dp is now dS (pre-scale scores)
            Gather(_k[l], KvD, kvh * hd, _kh, T, hd);
            MatMul.Transpose(_kh, _tB, T, hd);                          // Kᵀ [hd, T]
            MatMul.ABt(dp, _tB, _dh, T, hd, T);                         // dQ = dS · K
            Scatter(_dh, _dq, D, h * hd, T, hd, accumulate: false);
            MatMul.Transpose(dp, _tA, T, T);                            // dSᵀ
            Gather(_q[l], D, h * hd, _qh, T, hd);
            MatMul.Transpose(_qh, _tB, T, hd);                          // Qᵀ [hd, T]
            MatMul.ABt(_tA, _tB, _dh, T, hd, T);                        // dK = dSᵀ · Q
            Scatter(_dh, _dk, KvD, kvh * hd, T, hd, accumulate: true);
        }
    }
}
