using System.Numerics.Tensors;

namespace Frugal.Train.Model;

public sealed partial class SequencePass
{
    private readonly float[] _dx, _dn;       // [T, dim] residual-stream gradient, gradient at a norm's output
    private readonly float[] _dF, _dG;       // [T, ffn] gradient scratch for up/act and gate
    private readonly float[] _dq, _dk, _dv;  // [T, dim], [T, kvDim], [T, kvDim]
    private readonly float[] _dsq;           // [T, T] dP, then dS; only j ≤ t is meaningful
    private readonly float[] _normScratch;   // [dim]

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
        var G = Gradients;
        var lay = _w.Layout;
        var dlogits = _logits.AsSpan(0, T * V);

        // logits = xf · Eᵀ (tied): dE += dlogitsᵀ · xf, dxf = dlogits · E.
        MatMul.AtB(dlogits, _xf, G.AsSpan(lay.TokenEmbedding, V * D), V, D, T, accumulate: true);
        MatMul.AB(dlogits, P.AsSpan(lay.TokenEmbedding, V * D), _dn, T, D, V);
        var dx = _dx.AsSpan(0, T * D);
        dx.Clear();
        Ops.RmsNormBackward(_xOut, P.AsSpan(lay.OutputNorm, D), _invF, _dn, dx, G.AsSpan(lay.OutputNorm, D), _normScratch, T, D);

        for (int l = _s.Layers - 1; l >= 0; l--)
        {
            var o = lay.Layers[l];
            // FFN: out = act · Wdownᵀ.
            LinearBackward(dx, _act[l], o.Wdown, T, D, F, _dF);
            var dAct = _dF.AsSpan(0, T * F);
            var dG = _dG.AsSpan(0, T * F);
            var g = _g[l].AsSpan(0, T * F);
            var u = _u[l].AsSpan(0, T * F);
            Ops.SwiGluBackward(g, u, dAct, dG);   // dAct is now d(up)
            LinearBackward(dG, _xn2[l], o.Wgate, T, F, D, _dn);
            LinearBackward(dAct, _xn2[l], o.Wup, T, F, D, _dn, accumulateInput: true);
            Ops.RmsNormBackward(_xMid[l], P.AsSpan(o.FfnNorm, D), _inv2[l], _dn, dx, G.AsSpan(o.FfnNorm, D), _normScratch, T, D);

            // Attention: out = att · Woᵀ.
            LinearBackward(dx, _att[l], o.Wo, T, D, D, _dn);
            AttentionBackward(l, T, _dn);
            Ops.Rope(_dq, T, _s.Heads, _s.HeadDim, 0, _w.Rope, sign: -1f);
            Ops.Rope(_dk, T, _s.KvHeads, _s.HeadDim, 0, _w.Rope, sign: -1f);
            LinearBackward(_dq, _xn1[l], o.Wq, T, D, D, _dn);
            LinearBackward(_dk, _xn1[l], o.Wk, T, _s.KvDim, D, _dn, accumulateInput: true);
            LinearBackward(_dv, _xn1[l], o.Wv, T, _s.KvDim, D, _dn, accumulateInput: true);
            Ops.RmsNormBackward(_xIn[l], P.AsSpan(o.AttnNorm, D), _inv1[l], _dn, dx, G.AsSpan(o.AttnNorm, D), _normScratch, T, D);
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
        MatMul.AtB(dy, x, Gradients.AsSpan(offset, outDim * inDim), outDim, inDim, T, accumulate: true);
        MatMul.AB(dy, _w.Values.AsSpan(offset, outDim * inDim), dxOut, T, inDim, outDim, accumulateInput);
    }

    /// <summary>From d(att) [T, dim] to _dq, _dk, _dv (q and k still rotated).</summary>
    private void AttentionBackward(int l, int T, ReadOnlySpan<float> dAtt)
    {
        int hd = _s.HeadDim, D = _s.Dim, KvD = _s.KvDim, group = _s.Heads / _s.KvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        var q = _q[l].AsSpan(0, T * D);
        var k = _k[l].AsSpan(0, T * KvD);
        var dq = _dq.AsSpan(0, T * D);
        var dk = _dk.AsSpan(0, T * KvD);
        var dv = _dv.AsSpan(0, T * KvD);
        var vT = _kvT.AsSpan(0, hd * T);
        dk.Clear();
        dv.Clear();
        for (int h = 0; h < _s.Heads; h++)
        {
            int kvh = h / group;
            if (h % group == 0) MatMul.Transpose(_v[l].AsSpan(kvh * hd), KvD, vT, T, T, hd);   // Vᵀ [hd, T], shared by the group
            var p = _p[l].AsSpan(h * T * T, T * T);
            var dO = dAtt[(h * hd)..];                                                                    // dO [T, hd], row stride dim
            var dp = _dsq.AsSpan(0, T * T);
            MatMul.Multiply(dO, D, 1, vT, T, dp, T, T, T, hd, causal: Causal.LowerC);                   // dP = dO·Vᵀ
            MatMul.Multiply(p, 1, T, dO, D, dv[(kvh * hd)..], KvD, T, hd, T, accumulate: true, causal: Causal.UpperA);  // dV += Pᵀ·dO
            for (int t = 0; t < T; t++)
            {
                var pr = p.Slice(t * T, t + 1);
                var dr = dp.Slice(t * T, t + 1);
                float dot = TensorPrimitives.Dot(pr, dr);
                TensorPrimitives.AddMultiply(dr, -dot, pr, dr);
                TensorPrimitives.Multiply(dr, scale, dr);
            }                                                                                             // dp is now dS (pre-scale scores)
            MatMul.Multiply(dp, T, 1, k[(kvh * hd)..], KvD, dq[(h * hd)..], D, T, hd, T, causal: Causal.LowerA);            // dQ = dS·K
            MatMul.Multiply(dp, 1, T, q[(h * hd)..], D, dk[(kvh * hd)..], KvD, T, hd, T, accumulate: true, causal: Causal.UpperA);  // dK += dSᵀ·Q
        }
    }
}
