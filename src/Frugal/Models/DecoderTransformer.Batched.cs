using System.Numerics.Tensors;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Ops;
using Frugal.Numerics.Threading;

namespace Frugal.Models;

/// <summary>
/// The one forward path: a step over a batch of sequences on a paged K/V store. Single-sequence calls
/// (<see cref="Forward"/>) are a batch of one.
/// </summary>
internal sealed partial class DecoderTransformer
{
    private BatchScratch? _batchScratch;
    private PagedAttention[]? _attention;   // [layers]: layers with the same window share one kernel and its plan
    private AttentionSequence[] _attentionSeqs = [];
    private int[] _tables = [];   // [Σ blocks per sequence] every sequence's block table, flat, for the kernel

    public PagedKvStore CreatePagedStore(int blocks, int blockSize, KvCacheTypes types = default, int residualSlots = 0) =>
        new(Config.BlockCount, blocks, blockSize, Config.HeadCountKv, Config.HeadDim, types, residualSlots, _rope,
            Config.HasLayerRope || _parts.NoRopeLayerStep > 0 ? RopeOf : null);

    // Loops index the batch: foreach over an IReadOnlyList boxes an enumerator, and a decode step allocates nothing.
    public void ForwardBatch(IReadOnlyList<BatchSequence> batch, PagedKvStore store, Span<float> logits)
    {
        var c = Config;
        int wanted = RunLayers(batch, store, logits.Length);
        if (wanted == 0)
        {
            _stream?.SkipOutput();
            return;
        }
        var s = _scratch!;
        int dim = c.EmbeddingLength;

        // Only the rows whose logits are wanted go through the final norm and the (vocab-wide) output matrix.
        int row = 0;
        int r = 0;
        for (int bi = 0; bi < batch.Count; bi++)
        {
            var b = batch[bi];
            int count = b.Tokens.Length, rows = b.LogitRows;
            s.Residual.AsSpan((row + count - rows) * dim, rows * dim).CopyTo(s.Projected.AsSpan(r * dim, rows * dim));
            row += count;
            r += rows;
        }
        RmsNorm.ApplyRows(s.Projected.AsSpan(0, wanted * dim), _w.OutputNorm, c.RmsNormEpsilon, s.Normed, wanted);
        var output = _stream?.AcquireOutput() ?? _w.Output;
        output.Multiply(s.Normed.AsSpan(0, wanted * dim), logits[..(wanted * c.VocabSize)], wanted, Team, KernelDispatch.Best);
        _stream?.ReleaseOutput();
        if (c.FinalLogitSoftCap > 0) SoftCap.Apply(logits[..(wanted * c.VocabSize)], c.FinalLogitSoftCap);
    }

    public void ForwardHidden(BatchSequence sequence, PagedKvStore store, Span<float> hidden)
    {
        var c = Config;
        int n = sequence.Tokens.Length, dim = c.EmbeddingLength;
        if (hidden.Length < n * dim)
            throw new ArgumentException($"hidden needs {n * dim} floats ({n} tokens x {dim}), got {hidden.Length}", nameof(hidden));
        _single[0] = sequence with { WantLogits = false, AllLogits = false };
        RunLayers(_single, store, 0);
        _stream?.SkipOutput();
        RmsNorm.ApplyRows(_scratch!.Residual.AsSpan(0, n * dim), _w.OutputNorm, c.RmsNormEpsilon, hidden, n);
    }

    private readonly BatchSequence[] _single = new BatchSequence[1];

    /// <summary>Checks the step, embeds its tokens and runs every layer; the residual stream is left in the scratch.
    /// Returns the number of logit rows the batch asks for.</summary>
    private int RunLayers(IReadOnlyList<BatchSequence> batch, PagedKvStore store, int logitsLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(store);
        var c = Config;
        if (store.Layers != c.BlockCount || store.KvHeads != c.HeadCountKv || store.HeadDim != c.HeadDim)
            throw new ArgumentException($"the store was not created by this model's CreatePagedStore (needs {c.BlockCount} layers of {c.HeadCountKv} x {c.HeadDim})", nameof(store));
        if (batch.Count == 0) throw new ArgumentException("a step needs at least one sequence", nameof(batch));
        int n = 0, wanted = 0, tableEntries = 0;
        for (int bi = 0; bi < batch.Count; bi++)
        {
            var b = batch[bi];
            if (b.Tokens.Length == 0) throw new ArgumentException("every sequence of a step needs at least one token", nameof(batch));
            if (b.Start < 0) throw new ArgumentException($"start position {b.Start} is negative", nameof(batch));
            int end = b.Start + b.Tokens.Length;
            int blocks = (end + store.BlockSize - 1) / store.BlockSize;
            if (blocks > b.BlockTable.Count)
                throw new ArgumentException($"positions up to {end} need {blocks} blocks; the table has {b.BlockTable.Count}", nameof(batch));
            for (int i = 0; i < blocks; i++)
                if ((uint)b.BlockTable[i] >= (uint)store.Blocks)
                    throw new ArgumentException($"block table entry #{i} is block {b.BlockTable[i]}, outside the store's [0, {store.Blocks})", nameof(batch));
            foreach (int t in b.Tokens.Span)
                if ((uint)t >= (uint)c.VocabSize)
                    throw new ArgumentOutOfRangeException(nameof(batch), $"token id {t} is outside the vocabulary [0, {c.VocabSize})");
            n += b.Tokens.Length;
            wanted += b.LogitRows;
            tableEntries += blocks;
        }
        if (logitsLength < wanted * c.VocabSize)
            throw new ArgumentException($"logits needs {wanted * c.VocabSize} floats ({wanted} x vocab {c.VocabSize}), got {logitsLength}", "logits");

        var s = ScratchFor(n);
        var bs = BatchScratchFor(n);
        var team = Team;
        bool split = RowSplitApplies(team, n);
        PlanAttention(batch, store, tableEntries, team.ThreadCount, split ? n : 0);
        _stream?.BeginStep();
        bool embeddingFromFile = _stream is { EmbeddingFromFile: true };
        int dim = c.EmbeddingLength, half = c.RopeDims / 2;
        int row = 0;
        for (int bi = 0; bi < batch.Count; bi++)
        {
            var b = batch[bi];
            var tokens = b.Tokens.Span;
            for (int i = 0; i < tokens.Length; i++, row++)
            {
                if (embeddingFromFile) _stream!.EmbeddingRow(tokens[i], s.Residual.AsSpan(row * dim, dim));
                else _w.TokenEmbedding.GetRow(tokens[i], s.Residual.AsSpan(row * dim, dim));
                Rope.Angles(b.Start + i, _rope, s.Cos.AsSpan(row * half, half), s.Sin.AsSpan(row * half, half));
                if (s.CosLocal != s.Cos)
                    Rope.Angles(b.Start + i, LocalRope, s.CosLocal.AsSpan(row * half, half), s.SinLocal.AsSpan(row * half, half));
            }
        }
        if (c.EmbeddingScale != 1.0f) TensorPrimitives.Multiply(s.Residual.AsSpan(0, n * dim), c.EmbeddingScale, s.Residual.AsSpan(0, n * dim));

        if (split)
        {
            RunLayersSplit(batch, store, n, s, bs, team);
            return wanted;
        }
        // Under a memory budget the streamed layers arrive here one at a time from the read-ahead; every token of the
        // step (a whole prefill chunk) is multiplied by each before it is given back, so a layer is read once per step
        // however many tokens the step holds (FlexGen's block schedule).
        for (int l = 0; l < _w.Layers.Length; l++)
        {
            var w = _stream?.AcquireLayer(l) ?? _w.Layers[l];
            AttentionInput(w, l, 0, n, s, bs, team);
            WriteKeyValues(store, l, batch, bs);
            AttentionOf(l).Run(team, store.Layer(l), _tables, s.Queries, s.Attended);
            AttentionOutput(w, 0, n, s, team);
            FeedForwardBlock(w, 0, n, s, team);
            _stream?.ReleaseLayer(l);
        }
        return wanted;
    }

    /// <summary>
    /// Flattens the block tables and cuts the step's attention into work units, once for all layers: for the whole team,
    /// or, for a step of <paramref name="splitRows"/> rows split by rows (0: not split), for each member's own rows.
    /// </summary>
    private void PlanAttention(IReadOnlyList<BatchSequence> batch, PagedKvStore store, int tableEntries, int threads, int splitRows)
    {
        var c = Config;
        _attention ??= CreateLayerAttention();
        if (_attentionSeqs.Length < batch.Count) _attentionSeqs = new AttentionSequence[batch.Count];
        // At least the store's block count, so a single sequence (a batch of one over its own store) never regrows it.
        if (_tables.Length < tableEntries)
            _tables = GC.AllocateUninitializedArray<int>(Math.Max(tableEntries, Math.Max(2 * _tables.Length, store.Blocks)), pinned: true);
        int row = 0, offset = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var b = batch[i];
            int blocks = (b.Start + b.Tokens.Length + store.BlockSize - 1) / store.BlockSize;
            for (int k = 0; k < blocks; k++) _tables[offset + k] = b.BlockTable[k];
            _attentionSeqs[i] = new AttentionSequence(b.Start, b.Tokens.Length, row, offset);
            row += b.Tokens.Length;
            offset += blocks;
        }
        if (splitRows > 0) PlanWorkers(batch.Count, splitRows, threads);
        else PlanLayerAttention(_attention, _attentionSeqs.AsSpan(0, batch.Count), threads);
    }

    /// <summary>RMSNorm, then Q, K and V of rows [<paramref name="r0"/>, r0 + n) (RoPE applied) into the step's buffers.</summary>
    private void AttentionInput(LayerWeights w, int layer, int r0, int n, ForwardScratch s, BatchScratch bs, ComputeTeam team)
    {
        var c = Config;
        int dim = c.EmbeddingLength, qDim = c.QueryDim, kvDim = c.KvDim;
        var x = s.Normed.AsSpan(r0 * dim, n * dim);
        RmsNorm.ApplyRows(s.Residual.AsSpan(r0 * dim, n * dim), w.AttnNorm, c.RmsNormEpsilon, x, n);
        var q = s.Queries.AsSpan(r0 * qDim, n * qDim);   // [n, heads·headDim]
        var k = bs.Keys.AsSpan(r0 * kvDim, n * kvDim);   // [n, kvDim]: this step's keys, before they go to their blocks
        var v = bs.Values.AsSpan(r0 * kvDim, n * kvDim); // [n, kvDim]
        ProjectQueryKeyValue(w, x, q, k, v, r0, n, s, team, localRope: c.SlidingWindowOf(layer) > 0, rotate: _parts.RotatesLayer(layer));
    }

    /// <summary>The step's own keys and values go to the cache before attention: token i attends to itself as the cache stores it.</summary>
    private void WriteKeyValues(PagedKvStore store, int layer, IReadOnlyList<BatchSequence> batch, BatchScratch bs)
    {
        int kvDim = Config.KvDim, row = 0;
        for (int bi = 0; bi < batch.Count; bi++)
        {
            var b = batch[bi];
            int count = b.Tokens.Length;
            store.Write(layer, b.BlockTable, b.Start, count, bs.Keys.AsSpan(row * kvDim, count * kvDim), bs.Values.AsSpan(row * kvDim, count * kvDim));
            row += count;
        }
    }

    /// <summary>attn_output of rows [<paramref name="r0"/>, r0 + n) (bias, Gemma's post-norm), added to their residual stream.</summary>
    private void AttentionOutput(LayerWeights w, int r0, int n, ForwardScratch s, ComputeTeam team)
    {
        var c = Config;
        int dim = c.EmbeddingLength, qDim = c.QueryDim;
        var attended = s.Attended.AsSpan(r0 * qDim, n * qDim);
        var projected = s.Projected.AsSpan(r0 * dim, n * dim);
        w.Output.Multiply(attended, projected, n, team, KernelDispatch.Best);
        AddBias(projected, w.OutputBias, n);
        if (w.AttnPostNorm is not null) RmsNorm.ApplyRows(projected, w.AttnPostNorm, c.RmsNormEpsilon, projected, n);
        var residual = s.Residual.AsSpan(r0 * dim, n * dim);
        TensorPrimitives.Add(residual, projected, residual);
    }

    private BatchScratch BatchScratchFor(int tokens)
    {
        if (_batchScratch is null || _batchScratch.Tokens < tokens)
            _batchScratch = new BatchScratch(Config.KvDim, tokens);
        return _batchScratch;
    }

    /// <summary>Buffers of the batched step beyond <see cref="ForwardScratch"/>; grown, never shrunk.</summary>
    private sealed class BatchScratch(int kvDim, int tokens)
    {
        public int Tokens { get; } = tokens;
        public float[] Keys { get; } = new float[tokens * kvDim];     // [tokens, kvDim]
        public float[] Values { get; } = new float[tokens * kvDim];   // [tokens, kvDim]
    }
}
