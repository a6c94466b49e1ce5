using System.Globalization;
using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Eval;
using Frugal.Train.Model;

namespace Frugal.Train.Training;

/// <summary>The three task accuracies of one validation pass and how close they are to the targets.</summary>
public sealed record ValidationScore(int Step, double Arithmetic, double Copy, double Recall)
{
    /// <summary>The targets the shipped main model is measured against (issue bars): addition 90%, copy 95%, recall 90%.</summary>
    public const double ArithmeticTarget = 0.90, CopyTarget = 0.95, RecallTarget = 0.90;

    /// <summary>
    /// The weakest task relative to its target (1 = every target met), plus a thousandth of the mean accuracy to order
    /// checkpoints that share their weakest task's figure.
    /// </summary>
    public double Score => Math.Min(Arithmetic / ArithmeticTarget, Math.Min(Copy / CopyTarget, Recall / RecallTarget))
        + (Arithmetic + Copy + Recall) / 3000;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"validation step {Step,5}: arithmetic {Arithmetic:P1}  copy {Copy:P1}  recall {Recall:P1}  score {Score:F3}");
}

/// <summary>
/// Greedy accuracy on a fixed validation set drawn from the training side of the split (<see
/// cref="HeldOutSets.TrainingSideItems"/>), in the held-out sets' form: the trainer keeps the checkpoint that scores
/// best here. The held-out sets are never looked at during training. Small models trained on several tasks at once
/// gain one skill while losing another (the shipped 0.92M model lost addition while learning the lookup), so the last
/// step is not necessarily the best one.
/// </summary>
public sealed class Validation
{
    private readonly IReadOnlyList<EvalItem> _arithmetic, _copy, _recall;
    private readonly BpeTokenizer _tokenizer;
    private readonly int _threads;

    public Validation(BpeTokenizer tokenizer, int context, int items, ulong seed, int threads)
    {
        if (items <= 0) throw new ArgumentOutOfRangeException(nameof(items), items, "validation needs at least one item per task");
        _tokenizer = tokenizer;
        _threads = threads;
        ulong s = SplitMix64.Derive(seed, "validation");
        _arithmetic = HeldOutSets.TrainingSideItems(EvalTask.Arithmetic, items, s);
        _copy = HeldOutSets.TrainingSideItems(EvalTask.Copy, items, s);
        _recall = HeldOutSets.TrainingSideItems(EvalTask.Recall, items, s, RecallDistance.Filter(text => tokenizer.Encode(text).Count, context));
    }

    public IEnumerable<EvalItem> AllItems => _arithmetic.Concat(_copy).Concat(_recall);

    public ValidationScore Measure(Weights weights, int step)
    {
        var eval = new GreedyEvaluator(weights, _tokenizer, _threads);
        return new ValidationScore(step, eval.Accuracy(_arithmetic).Accuracy, eval.Accuracy(_copy).Accuracy, eval.Accuracy(_recall).Accuracy);
    }
}
