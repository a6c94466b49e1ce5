using System.Numerics.Tensors;

namespace Frugal.Train.Model;

/// <summary>
/// Forward and backward pass of one sequence of up to <c>maxTokens</c> tokens, with every activation the backward
/// pass needs kept in buffers sized once. One instance per worker thread; gradients accumulate into its own vector.
/// </summary>
public sealed partial class SequencePass
{
    private readonly Weights _w;
    private readonly ModelShape _s;
    private readonly int _maxT;

    // Saved per layer. Shapes use T = maxTokens.
    private readonly float[][] _xIn, _xMid;        // [T, dim] residual stream entering the attention / FFN half
    private readonly float[][] _inv1, _inv2;       // [T] 1/rms of those
    private readonly float[][] _xn1, _xn2;         // [T, dim] normalized inputs
    private readonly float[][] _q, _k, _v;         // [T, dim], [T, kvDim], [T, kvDim]; q and k after RoPE
    private readonly float[][] _p;                 // [heads, T, T] attention probabilities; only j ≤ t is meaningful
    private readonly float[][] _att;               // [T, dim] concatenated head outputs
    private readonly float[][] _g, _u, _act;       // [T, ffn] gate, up, silu(gate)·up
    private readonly float[] _xOut, _invF, _xf;    // [T, dim], [T], [T, dim] final residual, 1/rms, normalized
    private readonly float[] _logits;              // [T, vocab], turned into dlogits by the loss

    // Scratch.
    private readonly float[] _kvT;                 // [hd, T] one KV head's K or V, transposed

    public SequencePass(Weights weights, int maxTokens)
    {
        _w = weights;
        _s = weights.Shape;
        _maxT = maxTokens;
        int T = maxTokens, D = _s.Dim, F = _s.FfnDim, L = _s.Layers, hd = _s.HeadDim;
        float[][] Per(int n) { var a = new float[L][]; for (int i = 0; i < L; i++) a[i] = new float[n]; return a; }
        _xIn = Per(T * D); _xMid = Per(T * D); _inv1 = Per(T); _inv2 = Per(T); _xn1 = Per(T * D); _xn2 = Per(T * D);
        _q = Per(T * D); _k = Per(T * _s.KvDim); _v = Per(T * _s.KvDim); _p = Per(_s.Heads * T * T); _att = Per(T * D);
        _g = Per(T * F); _u = Per(T * F); _act = Per(T * F);
        _xOut = new float[T * D]; _invF = new float[T]; _xf = new float[T * D]; _logits = new float[T * _s.Vocab];
        _kvT = new float[T * hd];
        Gradients = new float[weights.Layout.Count];
        _dx = new float[T * D]; _dn = new float[T * D]; _dF = new float[T * F]; _dG = new float[T * F];
        _dq = new float[T * D]; _dk = new float[T * _s.KvDim]; _dv = new float[T * _s.KvDim];
        _dsq = new float[T * T]; _normScratch = new float[D];
    }

    /// <summary>[parameter count] accumulated gradients; the trainer sums and clears them.</summary>
    public float[] Gradients { get; }

    /// <summary>[T, vocab] logits of the last forward pass.</summary>
    public ReadOnlySpan<float> Logits(int tokens) => _logits.AsSpan(0, tokens * _s.Vocab);

    /// <summary>Runs the model over <paramref name="tokens"/>; logits land in <see cref="Logits"/>.</summary>
    public void Forward(ReadOnlySpan<int> tokens)
    {
        int T = tokens.Length, D = _s.Dim, F = _s.FfnDim, V = _s.Vocab;
        if (T == 0 || T > _maxT) throw new ArgumentException($"sequence of {T} tokens: expected 1..{_maxT}");
        var P = _w.Values;
        var PT = _w.Transposed;
        var lay = _w.Layout;
        var x = _xOut.AsSpan(0, T * D);
        for (int t = 0; t < T; t++)
        {
            if ((uint)tokens[t] >= (uint)V) throw new ArgumentException($"token id {tokens[t]} is outside the vocabulary of {V}");
            P.AsSpan(lay.TokenEmbedding + tokens[t] * D, D).CopyTo(x.Slice(t * D, D));
        }
        for (int l = 0; l < _s.Layers; l++)
        {
            var o = lay.Layers[l];
            x.CopyTo(_xIn[l]);
            Ops.RmsNorm(x, P.AsSpan(o.AttnNorm, D), _xn1[l], _inv1[l], T, D, _s.NormEps);
            MatMul.AB(_xn1[l], PT.AsSpan(o.Wq), _q[l], T, D, D);
            MatMul.AB(_xn1[l], PT.AsSpan(o.Wk), _k[l], T, _s.KvDim, D);
            MatMul.AB(_xn1[l], PT.AsSpan(o.Wv), _v[l], T, _s.KvDim, D);
            Ops.Rope(_q[l], T, _s.Heads, _s.HeadDim, 0, _w.Rope);
            Ops.Rope(_k[l], T, _s.KvHeads, _s.HeadDim, 0, _w.Rope);
            AttentionForward(l, T);
            MatMul.AB(_att[l], PT.AsSpan(o.Wo), x, T, D, D, accumulate: true);
            x.CopyTo(_xMid[l]);
            Ops.RmsNorm(x, P.AsSpan(o.FfnNorm, D), _xn2[l], _inv2[l], T, D, _s.NormEps);
            MatMul.AB(_xn2[l], PT.AsSpan(o.Wgate), _g[l], T, F, D);
            MatMul.AB(_xn2[l], PT.AsSpan(o.Wup), _u[l], T, F, D);
            var act = _act[l].AsSpan(0, T * F);
            var g = _g[l].AsSpan(0, T * F);
            TensorPrimitives.Sigmoid(g, act);
            TensorPrimitives.Multiply(act, g, act);
            TensorPrimitives.Multiply(act, _u[l].AsSpan(0, T * F), act);
            MatMul.AB(act, PT.AsSpan(o.Wdown), x, T, D, F, accumulate: true);
        }
        Ops.RmsNorm(x, P.AsSpan(lay.OutputNorm, D), _xf, _invF, T, D, _s.NormEps);
        MatMul.AB(_xf, PT.AsSpan(lay.TokenEmbedding, V * D), _logits, T, V, D);
    }

    private void AttentionForward(int l, int T)
    {
        int hd = _s.HeadDim, D = _s.Dim, KvD = _s.KvDim, group = _s.Heads / _s.KvHeads;
        float scale = 1f / MathF.Sqrt(hd);
        var q = _q[l].AsSpan(0, T * D);
        var v = _v[l].AsSpan(0, T * KvD);
        var att = _att[l].AsSpan(0, T * D);
        var kT = _kvT.AsSpan(0, hd * T);
        for (int h = 0; h < _s.Heads; h++)
        {
            int kvh = h / group;
            if (h % group == 0) MatMul.Transpose(_k[l].AsSpan(kvh * hd), KvD, kT, T, T, hd);   // Kᵀ [hd, T], shared by the group
            var p = _p[l].AsSpan(h * T * T, T * T);
            MatMul.Multiply(q[(h * hd)..], D, 1, kT, T, p, T, T, T, hd, causal: Causal.LowerC);                      // S = Q·Kᵀ
            for (int t = 0; t < T; t++)
            {
                var live = p.Slice(t * T, t + 1);
                TensorPrimitives.Multiply(live, scale, live);
                Ops.StableSoftMax(live, live);
            }
            MatMul.Multiply(p, T, 1, v[(kvh * hd)..], KvD, att[(h * hd)..], D, T, hd, T, causal: Causal.LowerA);    // O = P·V
        }
    }
}
