using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Tests.Training;
using Frugal.Tokenization;

namespace Frugal.Tests.Evaluation;

/// <summary>
/// Regression guard on the shipped built-in model: greedy accuracy on the first items of each held-out set must keep
/// the reference figure (n = 500, models/README.md and README) inside its 95% Wilson interval. A small n keeps the
/// suite fast; a retrained or broken model that moves a task by more than the interval fails here.
/// </summary>
public class ShippedModelAccuracyTests
{
    [Theory]
    [InlineData(EvalTask.Arithmetic, 40, 499, 500)]
    [InlineData(EvalTask.Copy, 40, 500, 500)]
    [InlineData(EvalTask.Recall, 24, 495, 500)]
    [InlineData(EvalTask.CopyLong, 40, 307, 500)] // 61.4% [57.1%, 65.6%]
    [InlineData(EvalTask.Chain, 40, 353, 500)]    // the family for voting: 70.6% [66.5%, 74.4%]
    public void Shipped_model_greedy_accuracy_stays_within_the_confidence_interval_of_its_reference(EvalTask task, int n, int refCorrect, int refTotal)
    {
        string path = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(file);
        var evaluator = new GreedyTaskEvaluator(model, Tokenizer.FromGguf(file));
        var estimate = evaluator.Measure(evaluator.HeldOutItems(task, n));
        double reference = (double)refCorrect / refTotal;
        var (low, high) = estimate.Interval;
        Assert.True(reference >= low - 1e-12 && reference <= high + 1e-12,
            $"{task}: {estimate.Correct}/{estimate.Total} gives [{low:P1}, {high:P1}], which no longer holds the reference {reference:P1}");
    }

    [Fact]
    public void Copy_long_sets_are_disjoint_under_the_list_and_longer_than_anything_training_copies()
    {
        var heldOut = HeldOutSets.Items(EvalTask.CopyLong, 300);
        var dev = HeldOutSets.DevelopmentItems(EvalTask.CopyLong, 300);
        string List(EvalItem i) => i.Expected.Trim();
        int Count(EvalItem i) => List(i).Split(", ").Length;
        Assert.All(heldOut, i => Assert.True(HeldOutSplit.IsHeldOut(List(i))));
        Assert.All(dev, i => Assert.False(HeldOutSplit.IsHeldOut(List(i))));
        Assert.Empty(heldOut.Select(List).Intersect(dev.Select(List)));
        Assert.All(heldOut.Concat(dev), i => Assert.InRange(Count(i), CopyTask.LongMinItems, CopyTask.LongMaxItems));
        // Training copies 3-10 items, so no training document holds a copy-long list.
        var corpus = new CorpusGenerator(7);
        for (int d = 0; d < 300; d++)
        {
            string text = corpus.Next(DocumentKind.Copy).Text;
            int items = text[(text.IndexOf("Again: ", StringComparison.Ordinal) + 7)..].TrimEnd('\n', '.').Split(", ").Length;
            Assert.InRange(items, CopyTask.MinItems, CopyTask.MaxItems);
        }
    }
}
