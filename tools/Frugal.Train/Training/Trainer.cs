using System.Diagnostics;
using System.Numerics.Tensors;
using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Export;
using Frugal.Train.Model;

namespace Frugal.Train.Training;

/// <summary>
/// The training loop: rows from the seeded corpus, forward/backward split across worker threads by a fixed
/// assignment (so the sum of gradients, and the run, is reproducible), global-norm clipping, AdamW, cosine schedule.
/// </summary>
public sealed class Trainer
{
    private readonly TrainConfig _config;
    private readonly RowBatcher _batcher;
    private readonly SequencePass[] _workers;
    private readonly AdamW _adam;
    private readonly float[] _grad;
    private readonly IReadOnlyList<TrainingRow> _teacherRows;
    private readonly SplitMix64 _mixRng;
    private int _nextTeacherRow;

    /// <param name="teacherRows">
    /// distillation rows (<see cref="Distillation.TeacherRows"/>): each short row is one of them, in turn, with
    /// probability <see cref="TrainConfig.DistillMix"/>, else a corpus row; empty for plain training.
    /// </param>
    public Trainer(TrainConfig config, BpeTokenizer tokenizer, ulong corpusSeed, IReadOnlyList<TrainingRow>? teacherRows = null)
    {
        _teacherRows = teacherRows ?? [];
        _mixRng = new SplitMix64(SplitMix64.Derive(config.Seed, "distill-mix"));
        _config = config;
        if (config.Shape.Vocab != tokenizer.VocabSize)
            throw new ArgumentException($"config vocab {config.Shape.Vocab} differs from the tokenizer's {tokenizer.VocabSize}");
        Weights = new Weights(new ParameterLayout(config.Shape));
        if (config.Init is null) Weights.Initialize(SplitMix64.Derive(config.Seed, "init"));
        else StartFrom(config.Init, config.Shape);
        _batcher = new RowBatcher(new CorpusGenerator(SplitMix64.Derive(corpusSeed, config.Name)), tokenizer, config.Shape.Context, config.AnswersOnly, config.RecallAnswerWeight,
            config.ArithmeticAnswerWeight);
        int maxRow = Math.Max(config.LongRows > 0 ? config.Shape.Context : config.ShortRowTokens, _teacherRows.Count > 0 ? _teacherRows.Max(r => r.Tokens.Length) : 0);
        _workers = [.. Enumerable.Range(0, Math.Max(1, config.Threads)).Select(_ => new SequencePass(Weights, maxRow))];
        _adam = new AdamW(Weights.Layout, weightDecay: config.WeightDecay);
        _grad = new float[Weights.Layout.Count];
    }

    public Weights Weights { get; }

    private void StartFrom(string path, ModelShape shape)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"init model '{path}' does not exist", path);
        var found = GgufExport.ReadShape(path);
        if (found != shape) throw new ArgumentException($"init model '{path}' has shape {found}, the config asks for {shape}");
        GgufExport.Load(path, shape).Values.CopyTo(Weights.Values, 0);
        Weights.RefreshTransposes();
    }
    public int Step { get; private set; }

    /// <summary>Runs one optimizer step and returns the mean loss per scored token (nats).</summary>
    public double TrainStep()
    {
        var rows = new List<TrainingRow>();
        for (int i = 0; i < _config.LongRows; i++) rows.Add(_batcher.LongRow());
        for (int i = 0; i < _config.ShortRows; i++)
            rows.Add(_teacherRows.Count > 0 && _mixRng.NextDouble() < _config.DistillMix
                ? _teacherRows[_nextTeacherRow++ % _teacherRows.Count]
                : _batcher.ShortRow(_config.ShortRowTokens, _config.ShortMix));
        int scored = rows.Sum(r => r.Scored);
        float scale = 1f / Math.Max(1, scored);
        var losses = new double[_workers.Length];
        var assignment = AssignRows(rows, _workers.Length);
        Parallel.For(0, _workers.Length, new ParallelOptions { MaxDegreeOfParallelism = _workers.Length }, w =>
        {
            Array.Clear(_workers[w].Gradients);
            foreach (int r in assignment[w])
                losses[w] += _workers[w].TrainStep(rows[r].Tokens, rows[r].Targets, scale, rows[r].Weights);
        });
        _workers[0].Gradients.CopyTo(_grad, 0);
        for (int w = 1; w < _workers.Length; w++) TensorPrimitives.Add(_grad, _workers[w].Gradients, _grad);
        float norm = TensorPrimitives.Norm(_grad);
        if (!float.IsFinite(norm))
            throw new InvalidOperationException($"step {Step}: gradient norm is {norm}; the weights were left unchanged");
        float clip = norm > _config.GradClip ? _config.GradClip / norm : 1f;
        _adam.Step(Weights.Values, _grad, _config.LearningRateAt(Step), clip, _workers.Length);
        Weights.RefreshTransposes(_workers.Length);
        Step++;
        return losses.Sum() / Math.Max(1, scored);
    }

    /// <summary>
    /// Longest rows first, each to the least-loaded worker (cost ~ tokens · (1 + tokens/256) for the attention
    /// part); a fixed rule, so the gradient sum order and hence the run stay reproducible.
    /// </summary>
    private static List<int>[] AssignRows(List<TrainingRow> rows, int workers)
    {
        if (workers == 1) return [[.. Enumerable.Range(0, rows.Count)]];
        var lists = Enumerable.Range(0, workers).Select(_ => new List<int>()).ToArray();
        var load = new double[workers];
        foreach (int r in Enumerable.Range(0, rows.Count).OrderByDescending(r => rows[r].Tokens.Length).ThenBy(r => r))
        {
            int best = 0;
            for (int w = 1; w < workers; w++) if (load[w] < load[best]) best = w;
            lists[best].Add(r);
            int n = rows[r].Tokens.Length;
            load[best] += n * (1 + n / 256.0);
        }
        return lists;
    }

    /// <summary>
    /// Trains to the configured step count (or stops early at <paramref name="stopAt"/>, on the same schedule, which
    /// reproduces a checkpoint of the full run), reporting (step, loss, seconds) every <paramref name="every"/> steps.
    /// </summary>
    public void Run(Action<int, double, double>? report = null, int every = 10, Action<int>? checkpoint = null, int checkpointEvery = 250, int? stopAt = null)
    {
        var clock = Stopwatch.StartNew();
        double sum = 0;
        int n = 0;
        int last = Math.Min(_config.Steps, stopAt ?? _config.Steps);
        while (Step < last)
        {
            sum += TrainStep();
            n++;
            if (Step % every == 0 || Step == last)
            {
                report?.Invoke(Step, sum / n, clock.Elapsed.TotalSeconds);
                sum = 0;
                n = 0;
            }
            if (checkpoint != null && Step % checkpointEvery == 0) checkpoint(Step);
        }
    }
}
