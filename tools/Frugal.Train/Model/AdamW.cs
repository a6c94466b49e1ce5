using System.Numerics;

namespace Frugal.Train.Model;

/// <summary>AdamW (Loshchilov &amp; Hutter 2019); weight decay only on matrices, not on norm gains.</summary>
public sealed class AdamW
{
    private readonly float[] _m, _v;
    private readonly float[] _decay;   // [Count] 1 on matrices, 0 on norm gains (a factor, so the vector body needs no branch)
    private int _step;

    public AdamW(ParameterLayout layout, float beta1 = 0.9f, float beta2 = 0.95f, float eps = 1e-8f, float weightDecay = 0.1f)
    {
        _m = new float[layout.Count];
        _v = new float[layout.Count];
        _decay = new float[layout.Count];
        foreach (var (_, offset, rows, cols) in layout.Tensors())
            if (rows > 1) _decay.AsSpan(offset, rows * cols).Fill(1f);
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    /// <summary>
    /// One update with gradient <paramref name="gradScale"/>·grad (the clip factor folded in). Element-wise, so splitting
    /// it into <paramref name="threads"/> contiguous ranges gives the same bits as one thread.
    /// </summary>
    public void Step(float[] parameters, float[] grad, float lr, float gradScale = 1f, int threads = 1)
    {
        if (parameters.Length != _m.Length || grad.Length != _m.Length)
            throw new ArgumentException($"AdamW: {parameters.Length} parameters and {grad.Length} gradients, expected {_m.Length}");
        _step++;
        float c1 = 1f - MathF.Pow(Beta1, _step), c2 = 1f - MathF.Pow(Beta2, _step);
        int n = parameters.Length;
        if (threads <= 1) Update(parameters, grad, lr, gradScale, c1, c2, 0, n);
        else
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                w => Update(parameters, grad, lr, gradScale, c1, c2, (int)((long)n * w / threads), (int)((long)n * (w + 1) / threads)));
    }

    /// <summary>The vector body does the scalar tail's operations in the same order (no fused multiply-add), so both round alike.</summary>
    private void Update(float[] parameters, float[] grad, float lr, float gradScale, float c1, float c2, int from, int to)
    {
        int i = from, w = Vector<float>.Count;
        var b1 = new Vector<float>(Beta1);
        var b2 = new Vector<float>(Beta2);
        var ob1 = new Vector<float>(1 - Beta1);
        var ob2 = new Vector<float>(1 - Beta2);
        var gs = new Vector<float>(gradScale);
        var lrv = new Vector<float>(lr);
        var lrwd = new Vector<float>(lr * WeightDecay);
        var vc1 = new Vector<float>(c1);
        var vc2 = new Vector<float>(c2);
        var eps = new Vector<float>(Eps);
        for (; i + w <= to; i += w)
        {
            var g = new Vector<float>(grad, i) * gs;
            var m = b1 * new Vector<float>(_m, i) + ob1 * g;
            var v = b2 * new Vector<float>(_v, i) + ob2 * g * g;
            m.CopyTo(_m, i);
            v.CopyTo(_v, i);
            var p = new Vector<float>(parameters, i);
            p -= lrwd * p * new Vector<float>(_decay, i);
            (p - lrv * (m / vc1) / (Vector.SquareRoot(v / vc2) + eps)).CopyTo(parameters, i);
        }
        for (; i < to; i++)
        {
            float g = grad[i] * gradScale;
            float m = _m[i] = Beta1 * _m[i] + (1 - Beta1) * g;
            float v = _v[i] = Beta2 * _v[i] + (1 - Beta2) * g * g;
            float p = parameters[i];
            p -= lr * WeightDecay * p * _decay[i];
            parameters[i] = p - lr * (m / c1) / (MathF.Sqrt(v / c2) + Eps);
        }
    }
}
