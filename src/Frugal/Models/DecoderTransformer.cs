using System.Diagnostics;
using System.Numerics.Tensors;
using Frugal.Models.Residency;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Ops;
using Frugal.Numerics.Threading;

namespace Frugal.Models;

/// <summary>
/// The pre-norm decoder-only transformer shared by the llama family (llama, qwen2, qwen3) and Gemma 2/3: RMSNorm,
/// grouped-query attention with RoPE, a gated feed-forward. <see cref="TransformerParts"/> switches the few parts that
/// differ (Gemma's sandwich norms and GeGLU); <see cref="ModelConfig"/> carries per-layer sliding windows, soft-caps and scales.
/// One instance serves one caller at a time: its scratch buffers are shared between calls.
/// </summary>
internal sealed partial class DecoderTransformer : IBatchedLanguageModel
{
    private readonly TransformerWeights _w;
    private readonly TransformerParts _parts;
    private readonly IDisposable? _owned;
    private readonly WeightStream? _stream;   // the weights read from the file as the forward reaches them; null: all resident
    private ForwardScratch? _scratch;

    private bool _disposed;

    public DecoderTransformer(ModelConfig config, TransformerWeights weights, TransformerParts parts, IDisposable? owned = null, WeightStream? stream = null)
    {
        Config = config;
        _w = weights;
        _parts = parts;
        _owned = owned;
        _stream = stream;
        _rope = config.RopeWith(weights.RopeFreqFactors);
    }

    private readonly RopeSpec _rope;   // the one rotation every table of this model is built from

    /// <summary>The rotation of the sliding-window layers: <see cref="_rope"/> with their own base and scale (Gemma 3's local layers).</summary>
    private RopeSpec LocalRope => _rope with
    {
        FreqBase = Config.SlidingRopeFreqBase ?? Config.RopeFreqBase,
        FreqScale = Config.SlidingRopeFreqScale ?? Config.RopeFreqScale,
    };

    /// <summary>The rotation layer <paramref name="layer"/>'s keys carry: null for a layer without RoPE (SmolLM3's NoPE layers).</summary>
    private RopeSpec? RopeOf(int layer) =>
        !_parts.RotatesLayer(layer) ? null : Config.SlidingWindowOf(layer) > 0 ? LocalRope : _rope;

    public ModelConfig Config { get; }

    public long KernelLayoutBytes => _w.KernelLayoutBytes;

    public WeightResidency? Residency { get; init; }

    public WeightStreamCounters? StreamCounters => _stream?.Counters;

    /// <summary>The same model, made responsible for disposing <paramref name="resource"/> (the file it reads).</summary>
    public DecoderTransformer Owning(IDisposable resource) => new(Config, _w, _parts, resource, _stream) { Residency = Residency };

    public KvCache CreateCache(int maxTokens, KvCacheTypes types = default)
    {
        if (maxTokens <= 0) throw new ArgumentOutOfRangeException(nameof(maxTokens), $"a KV cache needs room for at least one position, got {maxTokens}");
        // One attention tile per block, or KIVI's block (its key group); one sequence fills one block at a time.
        int blockSize = KvElementTypes.DefaultBlockSize(types);
        int blocks = (maxTokens + blockSize - 1) / blockSize;
        return new PagedSequenceCache(CreatePagedStore(blocks, blockSize, types, residualSlots: 1), maxTokens);
    }

    /// <summary>A batch of one over the sequence's own paged store: the same path as the engine's steps.</summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, Span<float> logits, bool allLogits = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var c = Config;
        if (cache is not PagedSequenceCache kv || kv.Store.Layers != c.BlockCount || kv.Store.KvDim != c.KvDim)
            throw new ArgumentException($"the cache was not created by this model's CreateCache (needs {c.BlockCount} layers of {c.KvDim})", nameof(cache));
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("at least one token is needed", nameof(tokens));
        int start = kv.Count;
        if (start + n > kv.Capacity)
            throw new ArgumentException($"the cache holds {kv.Capacity} positions; {start} are used and {n} more do not fit", nameof(tokens));
        kv.Batch[0] = new BatchSequence(kv.Tokens(tokens), start, kv.BlockTable, WantLogits: true, AllLogits: allLogits);
        ForwardBatch(kv.Batch, kv.Store, logits);
        kv.Advance(n);
    }

    /// <summary>
    /// Q, K and V of <paramref name="n"/> normed rows: projections, biases (Qwen2), per-head Q/K norms (Qwen3) and
    /// RoPE at the positions whose cos/sin tables <paramref name="s"/> holds.
    /// </summary>
    private void ProjectQueryKeyValue(LayerWeights w, ReadOnlySpan<float> x, Span<float> q, Span<float> k, Span<float> v, int r0, int n, ForwardScratch s,
        ComputeTeam team, bool localRope = false, bool rotate = true)
    {
        var c = Config;
        int qDim = c.QueryDim, kvDim = c.KvDim, hd = c.HeadDim, half = c.RopeDims / 2;
        w.Q.Multiply(x, q, n, team, KernelDispatch.Best);
        w.K.Multiply(x, k, n, team, KernelDispatch.Best);
        w.V.Multiply(x, v, n, team, KernelDispatch.Best);
        AddBias(q, w.QBias, n);
        AddBias(k, w.KBias, n);
        AddBias(v, w.VBias, n);

        bool perHead = _parts.QkNormSpan == QkNormSpan.Head;
        for (int i = 0; i < n; i++)
        {
            var cos = (localRope ? s.CosLocal : s.Cos).AsSpan((r0 + i) * half, half);
            var sin = (localRope ? s.SinLocal : s.Sin).AsSpan((r0 + i) * half, half);
            if (!perHead && w.QNorm is not null)
            {
                // OLMoE: one RMSNorm over the whole query (and key) projection, before it is cut into heads.
                RmsNorm.Apply(q.Slice(i * qDim, qDim), w.QNorm, c.RmsNormEpsilon, q.Slice(i * qDim, qDim));
                RmsNorm.Apply(k.Slice(i * kvDim, kvDim), w.KNorm!, c.RmsNormEpsilon, k.Slice(i * kvDim, kvDim));
            }
            for (int h = 0; h < c.HeadCount; h++)
            {
                var head = q.Slice(i * qDim + h * hd, hd);
                if (perHead && w.QNorm is not null) RmsNorm.Apply(head, w.QNorm, c.RmsNormEpsilon, head);
                if (rotate) Rope.Apply(head, cos, sin, _parts.Rope);
            }
            for (int h = 0; h < c.HeadCountKv; h++)
            {
                var head = k.Slice(i * kvDim + h * hd, hd);
                if (perHead && w.KNorm is not null) RmsNorm.Apply(head, w.KNorm, c.RmsNormEpsilon, head);
                if (rotate) Rope.Apply(head, cos, sin, _parts.Rope);
            }
        }
    }

    /// <summary>The feed-forward block of rows [<paramref name="r0"/>, r0 + n) of the step, added to their residual stream.</summary>
    private void FeedForwardBlock(LayerWeights w, int r0, int n, ForwardScratch s, ComputeTeam team)
    {
        if (w.Experts is { } experts)
        {
            // Mixture-of-experts steps never split their rows (RowSplitApplies), so they always start at row 0.
            Debug.Assert(r0 == 0);
            ExpertFeedForwardBlock(w.FfnNorm, experts, n, s);
            return;
        }
        var c = Config;
        int dim = c.EmbeddingLength, ff = c.FeedForwardLength;
        var residual = s.Residual.AsSpan(r0 * dim, n * dim);
        var x = s.Normed.AsSpan(r0 * dim, n * dim);
        RmsNorm.ApplyRows(residual, w.FfnNorm, c.RmsNormEpsilon, x, n);
        var gate = s.Gate.AsSpan(r0 * ff, n * ff);
        var up = s.Up.AsSpan(r0 * ff, n * ff);
        w.Gate!.Multiply(x, gate, n, team, KernelDispatch.Best);
        w.Up!.Multiply(x, up, n, team, KernelDispatch.Best);
        if (_parts.Gate == GateActivation.GeluTanh) GeGlu.ApplyInPlace(gate, up);
        else SwiGlu.ApplyInPlace(gate, up);
        var projected = s.Projected.AsSpan(r0 * dim, n * dim);
        w.Down!.Multiply(gate, projected, n, team, KernelDispatch.Best);
        if (w.FfnPostNorm is not null) RmsNorm.ApplyRows(projected, w.FfnPostNorm, c.RmsNormEpsilon, projected, n);
        TensorPrimitives.Add(residual, projected, residual);
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
        DisposeSoloTeams();
        _stream?.Dispose();
        _w.ReleaseKernelLayouts();
        _owned?.Dispose();
    }
}
