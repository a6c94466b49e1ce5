using System.Runtime.Intrinsics;
using Frugal.Numerics.Threading;

namespace Frugal.Numerics.Attention;

/// <summary>
/// One sequence's part of a step's attention: its <see cref="Count"/> query rows sit at rows
/// <see cref="Row"/>.. of the step's [rows, heads·headDim] queries, at positions <see cref="Start"/>..; its block table
/// starts at <see cref="TableOffset"/> in the step's flat table array. Query i sees positions 0..Start + i (causal).
/// </summary>
public readonly record struct AttentionSequence(int Start, int Count, int Row, int TableOffset);

/// <summary>
/// Causal grouped-query attention of a batch of sequences over a paged KV cache, reading each sequence's keys and
/// values where they lie through its block table (PagedAttention), tile by tile with an online softmax, so memory is
/// O(tile) at any context length. Work is cut into units (sequence, KV head, up to <see cref="TargetRows"/> query rows
/// of that head's group) that the compute team takes in turn; when a step has too few units to keep every thread
/// busy (one long sequence decoding), each unit's keys are split into chunks whose partial softmax states are merged
/// afterwards (flash-decoding). Plan once per step, run once per layer; nothing is allocated once sizes settle.
/// A plan may restrict each query to a sliding window of the latest positions (Gemma's and Phi-3's local layers,
/// llama.cpp's LLAMA_SWA_TYPE_STANDARD): units then start at the window's first tile, so blocks wholly before the
/// window are never read. Scores may be soft-capped (Gemma 2: cap · tanh(s / cap)) before the softmax.
/// </summary>
public sealed unsafe partial class PagedAttention : IComputeJob
{
    /// <summary>Query rows (heads of a group × tokens) one unit carries, so a key tile is loaded once for many rows.</summary>
    public const int TargetRows = 64;

    /// <summary>Fewest key tiles a split chunk holds (merging costs a little; tiny chunks do not pay).</summary>
    private const int MinTilesPerSplit = 8;

    /// <summary>Keys per softmax update of a row: the scores of a chunk are kept, so its max, exponentials and sum are taken once.</summary>
    internal const int ChunkPositions = 8 * KvTile.Positions;


    private readonly int _heads, _kvHeads, _headDim, _group;
    private readonly float _scale, _softCap;
    private int _window;   // of the planned step: each query sees this many latest positions, itself included; 0 = all
    private AttentionSequence[] _seqs = [];
    private int _seqCount;
    private Unit[] _units = [];
    private int _unitCount;
    private int _rowsPerUnit;
    private float[] _partials = [];   // [partial units][rows of a unit][headDim + 2]: acc, then m and l
    private float[][] _workerScratch = [];
    private int _next;
    private long _multiplyAdds;   // q·K and p·V multiply-adds of the planned step, per layer

    // The layer being run: set by Run for the duration of one team step.
    private KvLayer _layer;
    private int* _tables;
    private float* _q, _output;

    private record struct Unit(int Seq, int KvHead, int Row0, int Rows, int KeyStart, int KeyEnd, int Partial, int Splits);

    /// <param name="scale">the factor of q·k before the softmax; 0 takes 1/√headDim.</param>
    /// <param name="softCap">when positive, scores become softCap · tanh(score / softCap) (Gemma 2's attention logit soft-capping).</param>
    public PagedAttention(int heads, int kvHeads, int headDim, float scale = 0f, float softCap = 0f)
    {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw new ArgumentException($"{heads} query heads cannot be shared evenly by {kvHeads} KV heads");
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, "the head size must be positive and even");
        _heads = heads;
        _kvHeads = kvHeads;
        _headDim = headDim;
        _group = heads / kvHeads;
        if (!(scale >= 0) || float.IsInfinity(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "the attention scale must be finite and not negative (0: 1/sqrt(head size))");
        if (!(softCap >= 0) || float.IsInfinity(softCap)) throw new ArgumentOutOfRangeException(nameof(softCap), softCap, "the soft-cap must be finite and not negative (0: none)");
        _scale = scale > 0 ? scale : 1.0f / MathF.Sqrt(headDim);
        _softCap = softCap;
    }

    /// <summary>The sliding window of the planned step (0: every earlier position is visible).</summary>
    public int Window => _window;

    /// <summary>
    /// Cuts the step into work units for a team of <paramref name="threads"/>. With a <paramref name="window"/>, the
    /// query at position p sees positions p − window + 1 .. p only (a key at distance ≥ window is masked, as llama.cpp's
    /// is_masked_swa); 0 means every earlier position.
    /// </summary>
    public void Plan(ReadOnlySpan<AttentionSequence> sequences, int threads, int window = 0)
    {
        if (window < 0) throw new ArgumentOutOfRangeException(nameof(window), window, "the sliding window cannot be negative (0: no window)");
        _window = window;
        if (_seqs.Length < sequences.Length) _seqs = new AttentionSequence[sequences.Length];
        sequences.CopyTo(_seqs);
        _seqCount = sequences.Length;
        _rowsPerUnit = Math.Max(1, TargetRows / _group);
        _unitCount = 0;
        _multiplyAdds = 0;
        int units = 0;
        foreach (var s in sequences)
        {
            if (s.Count <= 0 || s.Start < 0) throw new ArgumentException($"a sequence needs at least one query at a non-negative position (start {s.Start}, count {s.Count})", nameof(sequences));
            units += (s.Count + _rowsPerUnit - 1) / _rowsPerUnit * _kvHeads;
        }
        // Too few units for the team: split the keys (decode of one long sequence uses every core).
        int want = threads > 1 && units < 2 * threads ? (2 * threads + units - 1) / units : 1;
        int partials = 0;
        for (int si = 0; si < sequences.Length; si++)
        {
            var s = sequences[si];
            for (int r0 = 0; r0 < s.Count; r0 += _rowsPerUnit)
            {
                int rows = Math.Min(_rowsPerUnit, s.Count - r0);
                int keys = s.Start + r0 + rows;   // the last row of the unit sees this many positions
                // The first row's window starts the unit's keys, at its tile: earlier blocks are never read.
                int keyStart = window > 0 ? Math.Max(0, s.Start + r0 - window + 1) / KvTile.Positions * KvTile.Positions : 0;
                int tiles = (keys - keyStart + KvTile.Positions - 1) / KvTile.Positions;
                int splits = Math.Max(1, Math.Min(want, tiles / MinTilesPerSplit));
                int perSplit = (tiles + splits - 1) / splits * KvTile.Positions;
                _multiplyAdds += 2L * rows * _group * _kvHeads * (window > 0 ? Math.Min(window + rows, keys - keyStart) : keys) * _headDim;
                for (int h = 0; h < _kvHeads; h++)
                    for (int k = 0; k < splits; k++)
                    {
                        int ks = keyStart + k * perSplit, ke = Math.Min(keys, ks + perSplit);
                        Add(new Unit(si, h, r0, rows, ks, ke, splits > 1 ? partials++ : -1, splits));
                    }
            }
        }
        long partialFloats = (long)partials * _rowsPerUnit * _group * (_headDim + 2);
        if (_partials.Length < partialFloats) _partials = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(partialFloats, 2L * _partials.Length)), pinned: true);
        int scratch = WorkerScratchFloats();
        if (_workerScratch.Length < threads || _workerScratch[0].Length < scratch)
        {
            _workerScratch = new float[Math.Max(threads, _workerScratch.Length)][];
            for (int i = 0; i < _workerScratch.Length; i++) _workerScratch[i] = GC.AllocateUninitializedArray<float>(scratch, pinned: true);
        }
    }

    private void Add(Unit u)
    {
        if (_unitCount == _units.Length) Array.Resize(ref _units, Math.Max(16, 2 * _units.Length));
        _units[_unitCount++] = u;
    }

    /// <summary>
    /// Runs the planned step for one layer: <paramref name="q"/> is [rows, heads·headDim] (RoPE applied),
    /// <paramref name="output"/> receives [rows, heads·headDim]; <paramref name="tables"/> holds every sequence's
    /// block table at its TableOffset. The step's own keys and values must already be in the cache.
    /// </summary>
    public void Run(ComputeTeam team, in KvLayer layer, int* tables, float* q, float* output)
    {
        if (layer.HeadDim != _headDim || layer.KvHeads != _kvHeads)
            throw new ArgumentException($"the cache layer has {layer.KvHeads} KV heads of {layer.HeadDim}; attention was made for {_kvHeads} of {_headDim}", nameof(layer));
        if (team.ThreadCount > _workerScratch.Length)
            throw new InvalidOperationException($"planned for {_workerScratch.Length} threads, run on {team.ThreadCount}");
        _layer = layer;
        _tables = tables;
        _q = q;
        _output = output;
        _next = 0;
        if (team.RunsInline(_multiplyAdds)) ((IComputeJob)this).Execute(0, 1);
        else team.Run(this);
        MergePartials();
    }

    /// <summary>The managed-array form of <see cref="Run(ComputeTeam, in KvLayer, int*, float*, float*)"/>.</summary>
    public void Run(ComputeTeam team, KvLayerMemory layer, int[] tables, float[] q, float[] output)
    {
        fixed (int* t = tables)
        fixed (float* qp = q, op = output)
            Run(team, layer.View, t, qp, op);
    }

    void IComputeJob.Execute(int worker, int workers)
    {
        fixed (float* scratch = _workerScratch[worker])
            for (int u = Interlocked.Increment(ref _next) - 1; u < _unitCount; u = Interlocked.Increment(ref _next) - 1)
            {
                if (Vector512.IsHardwareAccelerated && _headDim % 16 == 0) RunUnit<Vector512<float>, Lanes512>(_units[u], scratch);
                else if (Vector256.IsHardwareAccelerated && _headDim % 8 == 0) RunUnit<Vector256<float>, Lanes256>(_units[u], scratch);
                else if (Vector128.IsHardwareAccelerated && _headDim % 4 == 0) RunUnit<Vector128<float>, Lanes128>(_units[u], scratch);
                else RunUnit<float, Lanes1>(_units[u], scratch);
            }
    }

    private int WorkerScratchFloats()
    {
        int rows = _rowsPerUnit * _group, hd = _headDim;
        // queries, accumulators, m, l, limits, window starts | key tile, value tile, dequantized row | scores of a chunk
        return (2 * rows + 1) * hd + rows * 4 + 2 * KvTile.Positions * hd + hd + (rows + 3) * ChunkPositions + 64;
    }
}
