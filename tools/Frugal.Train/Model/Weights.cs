namespace Frugal.Train.Model;

/// <summary>
/// The parameter vector plus, refreshed after every optimizer step, the transposes of the matrices: the forward pass
/// computes x·Wᵀ as x·(Wᵀ) so that B rows are contiguous for <see cref="MatMul"/>; the backward pass reads W itself.
/// </summary>
public sealed class Weights
{
    public Weights(ParameterLayout layout)
    {
        Layout = layout;
        Values = new float[layout.Count];
        Transposed = new float[layout.Count];
        Rope = new RopeTable(layout.Shape.Context, layout.Shape.HeadDim, layout.Shape.RopeBase);
    }

    public ParameterLayout Layout { get; }
    public ModelShape Shape => Layout.Shape;

    /// <summary>[Count]: every tensor at its <see cref="ParameterLayout"/> offset.</summary>
    public float[] Values { get; }

    /// <summary>[Count]: at each matrix's offset, its transpose ([in, out]); norms are not transposed.</summary>
    public float[] Transposed { get; }

    internal RopeTable Rope { get; }

    /// <summary>Normal(0, 0.02) matrices, residual outputs scaled by 1/sqrt(2·layers) (GPT-2), norms at 1.</summary>
    public void Initialize(ulong seed)
    {
        var rng = new Frugal.Evaluation.SplitMix64(seed);
        float residualScale = 1f / MathF.Sqrt(2f * Shape.Layers);
        foreach (var (name, offset, rows, cols) in Layout.Tensors())
        {
            var span = Values.AsSpan(offset, rows * cols);
            if (rows == 1) { span.Fill(1f); continue; }
            float std = 0.02f * (name.Contains("attn_output") || name.Contains("ffn_down") ? residualScale : 1f);
            for (int i = 0; i < span.Length; i++) span[i] = (float)(rng.NextGaussian() * std);
        }
        RefreshTransposes();
    }

    /// <summary>Recomputes <see cref="Transposed"/>; each matrix is independent, so any thread count gives the same bits.</summary>
    public void RefreshTransposes(int threads = 1)
    {
        var matrices = Layout.Tensors().Where(t => t.Rows > 1).ToArray();
        Parallel.ForEach(matrices, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, t =>
            MatMul.Transpose(Values.AsSpan(t.Offset, t.Rows * t.Cols), Transposed.AsSpan(t.Offset, t.Rows * t.Cols), t.Rows, t.Cols));
    }
}
