using System.Numerics.Tensors;
using Frugal.Numerics.Ops;

namespace Frugal.Models;

/// <summary>The batched step over a paged K/V store: the same arithmetic as <see cref="Forward"/>, row for row.</summary>
internal sealed partial class DecoderTransformer
{
    private BatchScratch? _batchScratch;

    public PagedKvStore CreatePagedStore(int blocks, int blockSize) => new(Config.BlockCount, blocks, blockSize, Config.KvDim);

    public void ForwardBatch(IReadOnlyList<BatchSequence> batch, PagedKvStore store, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(store);
        var c = Config;
        if (store.Layers != c.BlockCount || store.KvDim != c.KvDim)
            throw new ArgumentException($"the store was not created by this model's CreatePagedStore (needs {c.BlockCount} layers of {c.KvDim})", nameof(store));
        if (batch.Count == 0) throw new ArgumentException("a step needs at least one sequence", nameof(batch));
        int n = 0, wanted = 0, longest = 0;
        foreach (var b in batch)
        {
            if (b.Tokens.Length == 0) throw new ArgumentException("every sequence of a step needs at least one token", nameof(batch));
            if (b.Start < 0) throw new ArgumentException($"start position {b.Start} is negative", nameof(batch));
            int end = b.Start + b.Tokens.Length;
            if ((end + store.BlockSize - 1) / store.BlockSize > b.BlockTable.Count)
                throw new ArgumentException($"positions up to {end} need {(end + store.BlockSize - 1) / store.BlockSize} blocks; the table has {b.BlockTable.Count}", nameof(batch));
            foreach (int t in b.Tokens.Span)
                if ((uint)t >= (uint)c.VocabSize)
                    throw new ArgumentOutOfRangeException(nameof(batch), $"token id {t} is outside the vocabulary [0, {c.VocabSize})");
            n += b.Tokens.Length;
            longest = Math.Max(longest, end);
            if (b.WantLogits) wanted++;
        }
        if (logits.Length < wanted * c.VocabSize)
            throw new ArgumentException($"logits needs {wanted * c.VocabSize} floats ({wanted} x vocab {c.VocabSize}), got {logits.Length}", nameof(logits));

        var s = ScratchFor(n);
        var bs = BatchScratchFor(n, longest);
        int dim = c.EmbeddingLength, half = c.RopeDims / 2;
        int row = 0;
        foreach (var b in batch)
        {
            var tokens = b.Tokens.Span;
            for (int i = 0; i < tokens.Length; i++, row++)
            {
                _w.TokenEmbedding.GetRow(tokens[i], s.Residual.AsSpan(row * dim, dim));
                Rope.Angles(b.Start + i, c.RopeDims, c.RopeFreqBase, c.RopeFreqScale, _w.RopeFreqFactors,
                    s.Cos.AsSpan(row * half, half), s.Sin.AsSpan(row * half, half));
            }
        }

        for (int l = 0; l < _w.Layers.Length; l++)
        {
            PagedAttentionBlock(_w.Layers[l], store, l, batch, n, s, bs);
            FeedForwardBlock(_w.Layers[l], n, s);
        }

        // Only the last row of each sequence that wants logits goes through the final norm and the output matrix.
        row = 0;
        int r = 0;
        foreach (var b in batch)
        {
            row += b.Tokens.Length;
            if (!b.WantLogits) continue;
            s.Residual.AsSpan((row - 1) * dim, dim).CopyTo(s.Projected.AsSpan(r * dim, dim));
            r++;
        }
        if (wanted == 0) return;
        RmsNorm.ApplyRows(s.Projected.AsSpan(0, wanted * dim), _w.OutputNorm, c.RmsNormEpsilon, s.Normed, wanted);
        _w.Output.Multiply(s.Normed.AsSpan(0, wanted * dim), logits[..(wanted * c.VocabSize)], wanted);
    }

    private void PagedAttentionBlock(LayerWeights w, PagedKvStore store, int layer, IReadOnlyList<BatchSequence> batch, int n,
        ForwardScratch s, BatchScratch bs)
    {
        var c = Config;
        int dim = c.EmbeddingLength, qDim = c.QueryDim, kvDim = c.KvDim, hd = c.HeadDim, half = c.RopeDims / 2;
        var x = s.Normed.AsSpan(0, n * dim);
        RmsNorm.ApplyRows(s.Residual, w.AttnNorm, c.RmsNormEpsilon, x, n);

        var q = s.Queries.AsSpan(0, n * qDim);   // [n, heads·headDim]
        var k = bs.Keys.AsSpan(0, n * kvDim);    // [n, kvDim]: this step's keys, before they go to their blocks
        var v = bs.Values.AsSpan(0, n * kvDim);  // [n, kvDim]
        ProjectQueryKeyValue(w, x, q, k, v, n, s);

        var keys = store.Keys[layer];    // [blocks·blockSize, kvDim]
        var values = store.Values[layer];
        float scale = 1.0f / MathF.Sqrt(hd);
        int group = c.HeadCount / c.HeadCountKv;
        var attended = s.Attended.AsSpan(0, n * qDim);
        int row = 0;
        foreach (var b in batch)
        {
            int count = b.Tokens.Length, end = b.Start + count;
            for (int i = 0; i < count; i++)
            {
                int dst = store.Row(b.BlockTable, b.Start + i) * kvDim;
                k.Slice((row + i) * kvDim, kvDim).CopyTo(keys.AsSpan(dst, kvDim));
                v.Slice((row + i) * kvDim, kvDim).CopyTo(values.AsSpan(dst, kvDim));
            }
            // Gather positions [0, end) into one contiguous [end, kvDim] run, block by block, so attention reads
            // them exactly as it reads a contiguous cache.
            var gk = bs.GatherKeys.AsSpan(0, end * kvDim);
            var gv = bs.GatherValues.AsSpan(0, end * kvDim);
            for (int p = 0; p < end; p += store.BlockSize)
            {
                int len = Math.Min(store.BlockSize, end - p) * kvDim;
                int src = store.Row(b.BlockTable, p) * kvDim;
                keys.AsSpan(src, len).CopyTo(gk.Slice(p * kvDim, len));
                values.AsSpan(src, len).CopyTo(gv.Slice(p * kvDim, len));
            }
            // Causal: token i (at position Start + i) sees positions 0 .. Start + i.
            for (int i = 0; i < count; i++)
                for (int h = 0; h < c.HeadCount; h++)
                    Attention.SingleQuery(q.Slice((row + i) * qDim + h * hd, hd), gk, gv, b.Start + i + 1, kvDim, h / group * hd,
                        scale, s.Scores, attended.Slice((row + i) * qDim + h * hd, hd));
            row += count;
        }

        var projected = s.Projected.AsSpan(0, n * dim);
        w.Output.Multiply(attended, projected, n);
        AddBias(projected, w.OutputBias, n);
        TensorPrimitives.Add(s.Residual.AsSpan(0, n * dim), projected, s.Residual.AsSpan(0, n * dim));
    }

    private BatchScratch BatchScratchFor(int tokens, int positions)
    {
        if (_batchScratch is null || _batchScratch.Tokens < tokens || _batchScratch.Positions < positions)
            _batchScratch = new BatchScratch(Config.KvDim, Math.Max(tokens, _batchScratch?.Tokens ?? 0), Math.Max(positions, _batchScratch?.Positions ?? 0));
        return _batchScratch;
    }

    /// <summary>Buffers of the batched step beyond <see cref="ForwardScratch"/>; grown, never shrunk.</summary>
    private sealed class BatchScratch(int kvDim, int tokens, int positions)
    {
        public int Tokens { get; } = tokens;
        public int Positions { get; } = positions;
        public float[] Keys { get; } = new float[tokens * kvDim];             // [tokens, kvDim]
        public float[] Values { get; } = new float[tokens * kvDim];           // [tokens, kvDim]
        public float[] GatherKeys { get; } = new float[positions * kvDim];    // [positions, kvDim]
        public float[] GatherValues { get; } = new float[positions * kvDim];  // [positions, kvDim]
    }
}
