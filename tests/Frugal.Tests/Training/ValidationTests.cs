using Frugal.Evaluation;
using Frugal.Train.Bpe;
using Frugal.Train.Training;

namespace Frugal.Tests.Training;

public class ValidationTests
{
    private static readonly BpeTokenizer Tok = BpeTokenizer.Load(Path.Combine(ShippedModels.Directory, "tokenizer.json"));

    [Fact]
    public void Validation_items_come_from_the_training_side_in_the_held_out_form_and_never_repeat_a_held_out_item()
    {
        var validation = new Validation(Tok, context: 512, items: 40, seed: 1, threads: 1).AllItems.ToList();
        Assert.Equal(120, validation.Count);
        var heldOut = new[] { EvalTask.Arithmetic, EvalTask.Copy, EvalTask.Recall }
            .SelectMany(t => HeldOutSets.Items(t, 40)).Select(i => i.Prompt + i.Expected).ToHashSet();
        Assert.DoesNotContain(validation, i => heldOut.Contains(i.Prompt + i.Expected));
        foreach (var item in validation.Take(40))
        {
            // 3-digit additions, written as the held-out ones are, on the training side of the split.
            Assert.Matches(@"^\d{3}\+\d{3}=$", item.Prompt);
            int a = ArithmeticTask.Read(item.Prompt[..3]), b = ArithmeticTask.Read(item.Prompt[4..7]);
            Assert.False(HeldOutSplit.IsHeldOut(ArithmeticTask.Canonical(a, '+', b)));
            Assert.Equal(a + b, ArithmeticTask.Read(item.Expected));
        }
        foreach (var item in validation.Skip(80))
        {
            // The asked fact opens the prompt and is a training-side fact; the key lies 400+ tokens back.
            var fact = System.Text.RegularExpressions.Regex.Match(item.Prompt, @"^The code for (\w+) is (\d{4})\.");
            Assert.True(fact.Success, item.Prompt[..40]);
            Assert.False(HeldOutSplit.IsHeldOut(RecallTask.Canonical(fact.Groups[1].Value, int.Parse(fact.Groups[2].Value))));
            Assert.True(RecallDistance.KeyDistance(item, t => Tok.Encode(t).Count) >= 400);
        }
        Assert.Equal(validation, new Validation(Tok, 512, 40, seed: 1, threads: 1).AllItems);
        Assert.NotEqual(validation, new Validation(Tok, 512, 40, seed: 2, threads: 1).AllItems);
    }

    [Fact]
    public void The_score_is_the_weakest_task_against_its_target_and_the_mean_breaks_ties()
    {
        // Recall at 0.40 of its 0.90 target is the weakest; the mean of the three adds a thousandth.
        Assert.Equal(0.40 / 0.90 + 1.80 / 3000, new ValidationScore(1, Arithmetic: 0.45, Copy: 0.95, Recall: 0.40).Score, 12);
        var allMet = new ValidationScore(1, 0.90, 0.95, 0.90);
        Assert.True(allMet.Score >= 1);
        var lopsided = new ValidationScore(2, 1.0, 1.0, 0.10);
        Assert.True(lopsided.Score < 0.2, "one lost task outweighs two perfect ones");
        Assert.True(new ValidationScore(5, 0.50, 0.99, 0.99).Score > new ValidationScore(6, 0.50, 0.95, 0.95).Score, "ties on the weakest task go to the higher mean");
    }
}
