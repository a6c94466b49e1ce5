using System.Numerics.Tensors;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>
/// The pre-norm decoder-only transformer shared by the llama family (llama, qwen2, qwen3): RMSNorm, grouped-query
/// attention with RoPE, SwiGLU feed-forward. <see cref="TransformerParts"/> switches the few parts that differ.
/// One instance serves one caller at a time: its scratch buffers are shared between calls.
/// </summary>
internal sealed partial class DecoderTransformer : IBatchedLanguageModel
{
    private readonly TransformerWeights _w;
    private readonly TransformerParts _parts;
    private readonly IDisposable? _owned;
    private ForwardScratch? _scratch;
    private bool _disposed;

    public DecoderTransformer(ModelConfig config, TransformerWeights weights, TransformerParts parts, IDisposable? owned = null)
    {
        Config = config;
        _w = weights;
        _parts = parts;
        _owned = owned;
    }

    public ModelConfig Config { get; }

    public long KernelLayoutBytes => _w.KernelLayoutBytes;

    /// <summary>The same model, made responsible for disposing <paramref name="resource"/> (the file it reads).</summary>
    public DecoderTransformer Owning(IDisposable resource) => new(Config, _w, _parts, resource);

    public KvCache CreateCache(int maxTokens) => new ContiguousKvCache(Config.BlockCount, maxTokens, Config.KvDim);

    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Config;
        if (cache is not ContiguousKvCache kv || kv.Layers != c.BlockCount || kv.KvDim != c.KvDim)
            throw new ArgumentException($"the cache was not created by this model's CreateCache (needs {c.BlockCount} layers of {c.KvDim})", nameof(cache));
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("at least one token is needed", nameof(tokens));
        int start = kv.Count;
        if (start + n > kv.Capacity)
            throw new ArgumentException($"the cache holds {kv.Capacity} positions; {start} are used and {n} more do not fit", nameof(tokens));
        int need = (allLogits ? n : 1) * c.VocabSize;
        if (logits.Length < need)
            throw new ArgumentException($"logits needs {need} floats ({(allLogits ? n : 1)} x vocab {c.VocabSize}), got {logits.Length}", nameof(logits));
        foreach (int t in tokens)
            if ((uint)t >= (uint)c.VocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {t} is outside the vocabulary [0, {c.VocabSize})");

        var s = ScratchFor(n);
        int dim = c.EmbeddingLength;
        for (int i = 0; i < n; i++)
            _w.TokenEmbedding.GetRow(tokens[i], s.Residual.AsSpan(i * dim, dim));
        int half = c.RopeDims / 2;
        for (int i = 0; i < n; i++)
            Rope.Angles(start + i, c.RopeDims, c.RopeFreqBase, c.RopeFreqScale, _w.RopeFreqFactors,
                s.Cos.AsSpan(i * half, half), s.Sin.AsSpan(i * half, half));

        for (int l = 0; l < _w.Layers.Length; l++)
        {
            AttentionBlock(_w.Layers[l], kv.Keys[l], kv.Values[l], start, n, s);
            FeedForwardBlock(_w.Layers[l], n, s);
        }
        kv.Advance(n);

        // Only the rows whose logits are wanted go through the final norm and the (vocab-wide) output matrix.
        int first = allLogits ? 0 : n - 1, rows = n - first;
        RmsNorm.ApplyRows(s.Residual.AsSpan(first * dim, rows * dim), _w.OutputNorm, c.RmsNormEpsilon, s.Normed, rows);
        _w.Output.Multiply(s.Normed.AsSpan(0, rows * dim), logits[..(rows * c.VocabSize)], rows);
    }

    /// <summary>
    /// Q, K and V of <paramref name="n"/> normed rows: projections, biases (Qwen2), per-head Q/K norms (Qwen3) and
    /// RoPE at the positions whose cos/sin tables <paramref name="s"/> holds. Shared by the contiguous and paged paths.
    /// </summary>
    private void ProjectQueryKeyValue(LayerWeights w, ReadOnlySpan<float> x, Span<float> q, Span<float> k, Span<float> v, int n, ForwardScratch s)
    {
        var c = Config;
        int qDim = c.QueryDim, kvDim = c.KvDim, hd = c.HeadDim, half = c.RopeDims / 2;
        w.Q.Multiply(x, q, n);
        w.K.Multiply(x, k, n);
        w.V.Multiply(x, v, n);
        AddBias(q, w.QBias, n);
        AddBias(k, w.KBias, n);
        AddBias(v, w.VBias, n);

        for (int i = 0; i < n; i++)
        {
            var cos = s.Cos.AsSpan(i * half, half);
            var sin = s.Sin.AsSpan(i * half, half);
            for (int h = 0; h < c.HeadCount; h++)
            {
                var head = q.Slice(i * qDim + h * hd, hd);
                if (w.QNorm is not null) RmsNorm.Apply(head, w.QNorm, c.RmsNormEpsilon, head);
                Rope.Apply(head, cos, sin, _parts.Rope);
            }
            for (int h = 0; h < c.HeadCountKv; h++)
            {
                var head = k.Slice(i * kvDim + h * hd, hd);
                if (w.KNorm is not null) RmsNorm.Apply(head, w.KNorm, c.RmsNormEpsilon, head);
                Rope.Apply(head, cos, sin, _parts.Rope);
            }
        }
    }

    private void AttentionBlock(LayerWeights w, float[] keys, float[] values, int start, int n, ForwardScratch s)
    {
        var c = Config;
        int dim = c.EmbeddingLength, qDim = c.QueryDim, kvDim = c.KvDim, hd = c.HeadDim, half = c.RopeDims / 2;
        var x = s.Normed.AsSpan(0, n * dim);
        RmsNorm.ApplyRows(s.Residual, w.AttnNorm, c.RmsNormEpsilon, x, n);

        var q = s.Queries.AsSpan(0, n * qDim);          // [n, heads·headDim]
        var k = keys.AsSpan(start * kvDim, n * kvDim);  // [n, kvDim]: this step's rows of the cache
        var v = values.AsSpan(start * kvDim, n * kvDim);
        ProjectQueryKeyValue(w, x, q, k, v, n, s);

        // Causal: token i (at position start + i) sees cache positions 0 .. start + i.
        float scale = 1.0f / MathF.Sqrt(hd);
        int group = c.HeadCount / c.HeadCountKv;
        var attended = s.Attended.AsSpan(0, n * qDim);
        for (int i = 0; i < n; i++)
            for (int h = 0; h < c.HeadCount; h++)
                Attention.SingleQuery(q.Slice(i * qDim + h * hd, hd), keys, values, start + i + 1, kvDim, h / group * hd,
                    scale, s.Scores, attended.Slice(i * qDim + h * hd, hd));

        var projected = s.Projected.AsSpan(0, n * dim);
        w.Output.Multiply(attended, projected, n);
        AddBias(projected, w.OutputBias, n);
        TensorPrimitives.Add(s.Residual.AsSpan(0, n * dim), projected, s.Residual.AsSpan(0, n * dim));
    }

    private void FeedForwardBlock(LayerWeights w, int n, ForwardScratch s)
    {
        var c = Config;
        int dim = c.EmbeddingLength, ff = c.FeedForwardLength;
        var x = s.Normed.AsSpan(0, n * dim);
        RmsNorm.ApplyRows(s.Residual, w.FfnNorm, c.RmsNormEpsilon, x, n);
        var gate = s.Gate.AsSpan(0, n * ff);
        var up = s.Up.AsSpan(0, n * ff);
        w.Gate.Multiply(x, gate, n);
        w.Up.Multiply(x, up, n);
        SwiGlu.ApplyInPlace(gate, up);
        var projected = s.Projected.AsSpan(0, n * dim);
        w.Down.Multiply(gate, projected, n);
        TensorPrimitives.Add(s.Residual.AsSpan(0, n * dim), projected, s.Residual.AsSpan(0, n * dim));
    }

    /// <summary>Adds a [width] bias to each of <paramref name="n"/> rows of [n, width].</summary>
    private static void AddBias(Span<float> rows, float[]? bias, int n)
    {
        if (bias is null) return;
        int width = bias.Length;
        for (int i = 0; i < n; i++)
        {
            var row = rows.Slice(i * width, width);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    private ForwardScratch ScratchFor(int tokens)
    {
        // Grown, never shrunk: steady decode (one token) after a prefill reuses the prefill's buffers.
        if (_scratch is null || _scratch.Tokens < tokens)
            _scratch = new ForwardScratch(Config, tokens);
        return _scratch;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _w.ReleaseKernelLayouts();
        _owned?.Dispose();
    }
}
