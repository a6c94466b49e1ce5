using Frugal.Numerics.Attention;
using Frugal.Numerics.Kernels;
using Frugal.Numerics.Threading;

namespace Frugal.Models;

/// <summary>
/// Steps of a small model split by rows instead of by matrix: each team member runs every layer for its own share of
/// the step's tokens, on a one-thread team of its own (its own activation scratch), and the members meet once per
/// layer, after computing their keys and values, for the caller to write them to the cache before anyone attends.
/// Splitting each matrix instead hands every activation row to the other core and back at every multiply; for a model
/// whose layers take microseconds those cache-line transfers cost more than the halved arithmetic. Built-in model,
/// 2 cores, `frugal bench -p 128`: prefill 82-83k tok/s split by rows, 40-44k split by matrix, 52-68k on one thread.
/// A row's arithmetic does not depend on the rows beside it (the kernels are batch-invariant), so a split step
/// computes what a one-thread step computes, bit for bit (tested).
/// </summary>
internal sealed partial class DecoderTransformer
{
    /// <summary>
    /// Layer weights up to this size split steps by rows: every member reads all of them, which costs little while they
    /// sit in the caches (the built-in models are 0.3 and 1.8 MB). Past it, splitting each matrix reads every weight
    /// once per step, which is what a model streamed from memory needs.
    /// </summary>
    internal const long RowSplitMaxWeightBytes = 8L << 20;

    /// <summary>
    /// Rows per member a step needs before it splits by rows: the members meet once per layer, and below ~8 rows each
    /// those meetings cost about what the halved work saves (9-token steps measured 105-182 us split against 155-178
    /// us on one thread; 16-token steps 213-271 against 265-289; a 128-token prefill 82k tok/s against 52-68k).
    /// </summary>
    internal const int RowSplitMinRowsPerMember = 8;

    private ComputeTeam? _team;
    private ComputeTeam[] _soloTeams = [];
    private PagedAttention[][] _workerAttention = [];
    private AttentionSequence[][] _workerSeqs = [];
    private RowSplitJob? _rowSplitJob;
    private long _layerWeightBytes;

    /// <summary>The team the steps run on: <see cref="ComputeTeam.Default"/> unless set (tests compare teams).</summary>
    internal ComputeTeam Team
    {
        get => _team ?? ComputeTeam.Default;
        set => _team = value;
    }

    /// <summary>Steps run split by rows so far (tests check that a step took this path).</summary>
    internal long RowSplitSteps { get; private set; }

    private bool RowSplitApplies(ComputeTeam team, int n)
    {
        if (team.ThreadCount < 2 || n < RowSplitMinRowsPerMember * team.ThreadCount || _stream is not null || MatMul.Observer is not null) return false;
        if (_layerWeightBytes == 0) _layerWeightBytes = LayerWeightBytes();
        return _layerWeightBytes <= RowSplitMaxWeightBytes;
    }

    /// <summary>Bytes of every layer's matrices; long.MaxValue for a model with expert layers (never split by rows).</summary>
    private long LayerWeightBytes()
    {
        long bytes = 0;
        foreach (var layer in _w.Layers)
        {
            if (layer.Experts is not null) return long.MaxValue;
            foreach (var m in new[] { layer.Q, layer.K, layer.V, layer.Output, layer.Gate!, layer.Up!, layer.Down! })
                bytes += m.RowBytes * m.Rows;
        }
        return bytes;
    }

    private void RunLayersSplit(IReadOnlyList<BatchSequence> batch, PagedKvStore store, int n, ForwardScratch s, BatchScratch bs, ComputeTeam team)
    {
        var job = _rowSplitJob ??= new RowSplitJob(this);
        RowSplitSteps++;
        job.Begin(store, s, bs, n);
        try
        {
            // Run l: attention and feed-forward of layer l - 1, then Q/K/V of layer l, for each member's rows; between
            // runs the caller writes layer l's keys and values, which every member's attention reads.
            for (int l = 0; l <= _w.Layers.Length; l++)
            {
                job.Layer = l;
                team.Run(job);
                if (l < _w.Layers.Length) WriteKeyValues(store, l, batch, bs);
            }
        }
        finally
        {
            job.End();
        }
    }

    /// <summary>Each member's one-thread team, and its attention planned for its own rows.</summary>
    private void PlanWorkers(int sequences, int n, int workers)
    {
        if (_soloTeams.Length < workers)
        {
            int old = _soloTeams.Length;
            Array.Resize(ref _soloTeams, workers);
            Array.Resize(ref _workerAttention, workers);
            Array.Resize(ref _workerSeqs, workers);
            for (int w = old; w < workers; w++)
            {
                _soloTeams[w] = new ComputeTeam(1);
                _workerAttention[w] = CreateLayerAttention();
                _workerSeqs[w] = [];
            }
        }
        for (int w = 0; w < workers; w++)
        {
            var (r0, r1) = RowsOf(w, workers, n);
            if (_workerSeqs[w].Length < sequences) _workerSeqs[w] = new AttentionSequence[sequences];
            int count = 0;
            for (int i = 0; i < sequences; i++)
            {
                var seq = _attentionSeqs[i];
                int a = Math.Max(r0, seq.Row), b = Math.Min(r1, seq.Row + seq.Count);
                if (a < b) _workerSeqs[w][count++] = new AttentionSequence(seq.Start + (a - seq.Row), b - a, a, seq.TableOffset);
            }
            // Planned as for the whole team, so a row's keys are cut into the same partial sums as in a step split by matrix.
            if (count > 0) PlanLayerAttention(_workerAttention[w], _workerSeqs[w].AsSpan(0, count), workers);
        }
    }

    private static (int R0, int R1) RowsOf(int worker, int workers, int n) =>
        ((int)((long)n * worker / workers), (int)((long)n * (worker + 1) / workers));

    private void RowSplitStep(int worker, int workers, RowSplitJob job)
    {
        var (r0, r1) = RowsOf(worker, workers, job.Rows);
        if (r0 == r1) return;
        int n = r1 - r0, l = job.Layer;
        var team = _soloTeams[worker];
        var s = job.Scratch!;
        if (l > 0)
        {
            var w = _w.Layers[l - 1];
            _workerAttention[worker][l - 1].Run(team, job.Store!.Layer(l - 1), _tables, s.Queries, s.Attended);
            AttentionOutput(w, r0, n, s, team);
            FeedForwardBlock(w, r0, n, s, team);
        }
        if (l < _w.Layers.Length) AttentionInput(_w.Layers[l], l, r0, n, s, job.Batch!, team);
    }

    private void DisposeSoloTeams()
    {
        foreach (var t in _soloTeams) t.Dispose();
        _soloTeams = [];
    }

    /// <summary>One run of the row-split step: the layer the members are at, and the step's buffers.</summary>
    private sealed class RowSplitJob(DecoderTransformer model) : IComputeJob
    {
        public int Layer, Rows;
        public PagedKvStore? Store;
        public ForwardScratch? Scratch;
        public BatchScratch? Batch;

        public void Begin(PagedKvStore store, ForwardScratch s, BatchScratch bs, int rows) => (Store, Scratch, Batch, Rows) = (store, s, bs, rows);

        public void End() => (Store, Scratch, Batch) = (null, null, null);

        public void Execute(int worker, int workers) => model.RowSplitStep(worker, workers, this);
    }
}
