namespace Frugal.Train.Model;

/// <summary>AdamW (Loshchilov &amp; Hutter 2019); weight decay only on matrices, not on norm gains.</summary>
public sealed class AdamW
{
    private readonly float[] _m, _v;
    private readonly bool[] _decay;
    private int _step;

    public AdamW(ParameterLayout layout, float beta1 = 0.9f, float beta2 = 0.95f, float eps = 1e-8f, float weightDecay = 0.1f)
    {
        _m = new float[layout.Count];
        _v = new float[layout.Count];
        _decay = new bool[layout.Count];
        foreach (var (_, offset, rows, cols) in layout.Tensors())
            if (rows > 1) _decay.AsSpan(offset, rows * cols).Fill(true);
        Beta1 = beta1; Beta2 = beta2; Eps = eps; WeightDecay = weightDecay;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    public void Step(float[] parameters, ReadOnlySpan<float> grad, float lr)
    {
        _step++;
        float c1 = 1f - MathF.Pow(Beta1, _step), c2 = 1f - MathF.Pow(Beta2, _step);
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = grad[i];
            float m = _m[i] = Beta1 * _m[i] + (1 - Beta1) * g;
            float v = _v[i] = Beta2 * _v[i] + (1 - Beta2) * g * g;
            float p = parameters[i];
            if (_decay[i]) p -= lr * WeightDecay * p;
            parameters[i] = p - lr * (m / c1) / (MathF.Sqrt(v / c2) + Eps);
        }
    }
}
