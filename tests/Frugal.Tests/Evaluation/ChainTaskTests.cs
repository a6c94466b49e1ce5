using Frugal.Evaluation;

namespace Frugal.Tests.Evaluation;

public class ChainTaskTests
{
    [Fact]
    public void An_item_lists_reversed_operands_and_its_scratchpad_adds_them_in_the_listed_order()
    {
        var item = ChainTask.Item([47, 18, 93, 25]);
        Assert.Equal("Sum: 740 810 390 520\n", item.Prompt);
        Assert.Equal("3810", item.Expected);                        // 183
        Assert.Equal("", item.Terminator);
        Assert.Equal("740+810=5600\n560+390=8510\n851+520=3810", item.Scratchpad);
        Assert.Equal(item.Scratchpad, item.AnswerText);
        Assert.Throws<ArgumentException>(() => ChainTask.Item([5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChainTask.Item([5, 100]));
    }

    [Fact]
    public void Training_documents_add_every_operand_once_in_varying_orders_and_sum_right()
    {
        var rng = new SplitMix64(11);
        var firstSteps = new HashSet<string>();
        for (int d = 0; d < 500; d++)
        {
            string doc = ChainTask.TrainingDocument(rng);
            var lines = doc.Split('\n');
            var operands = lines[0]["Sum: ".Length..].Split(' ').Select(ArithmeticTask.Read).ToList();
            Assert.InRange(operands.Count, ChainTask.MinOperands, ChainTask.MaxOperands);
            Assert.False(HeldOutSplit.IsHeldOut(ChainTask.Canonical(operands)));
            var steps = lines[1..];
            Assert.Equal(operands.Count - 1, steps.Length);
            var used = new List<int>();
            int carried = -1;
            foreach (var step in steps)
            {
                var (sides, sum) = (step.Split('=')[0].Split('+'), ArithmeticTask.Read(step.Split('=')[1]));
                int a = ArithmeticTask.Read(sides[0]), b = ArithmeticTask.Read(sides[1]);
                if (carried < 0) used.Add(a);
                else Assert.Equal(carried, a);                      // each step carries the previous sum
                used.Add(b);
                Assert.Equal(a + b, sum);
                carried = sum;
            }
            Assert.Equal(operands.Order(), used.Order());           // every operand exactly once
            Assert.Equal(operands.Sum(), carried);
            if (operands.Count == 5) firstSteps.Add(steps[0][..7] + "|" + lines[0]);
            Assert.Equal(ArithmeticTask.Reverse(operands.Sum(), 4), ChainTask.FinalSum(string.Join('\n', steps)));
        }
        // Orders are random: among 5-operand documents the first step is not always the first two listed operands.
        Assert.Contains(firstSteps, s => s[..3] != s[(s.IndexOf('|') + 6)..(s.IndexOf('|') + 9)]);
    }

    [Fact]
    public void The_split_ignores_operand_order_and_held_out_items_never_appear_in_training()
    {
        Assert.Equal(ChainTask.Canonical([47, 18, 93]), ChainTask.Canonical([93, 47, 18]));
        var heldOut = HeldOutSets.Items(EvalTask.Chain, 300);
        Assert.All(heldOut, i => Assert.InRange(i.Prompt.Split(' ').Length - 1, ChainTask.HeldOutMinOperands, ChainTask.HeldOutMaxOperands));
        var canon = heldOut.Select(i => Canonical(i.Prompt)).ToHashSet();
        var corpus = new CorpusGenerator(1);
        for (int i = 0; i < 20000; i++)
            Assert.DoesNotContain(Canonical(corpus.Next(DocumentKind.Chain).Text.Split('\n')[0] + "\n"), canon);
        Assert.DoesNotContain(HeldOutSets.DevelopmentItems(EvalTask.Chain, 300), i => canon.Contains(Canonical(i.Prompt)));
    }

    [Fact]
    public void A_worked_continuation_is_right_by_its_final_sum_whatever_the_path()
    {
        var item = ChainTask.Item([47, 18, 93, 25]);
        const string otherPath = "520+390=8110\n811+740=5610\n561+810=3810";
        Assert.True(HeldOutSets.IsCorrect(item, otherPath, endedWithEos: true));
        Assert.False(HeldOutSets.IsCorrect(item, otherPath, endedWithEos: false));              // cut off: no answer
        Assert.False(HeldOutSets.IsCorrect(item, "520+390=8110\n811+740=5610", endedWithEos: true)); // stopped early
        Assert.Equal("3810", TaskAnswers.Extract(EvalTask.Chain, otherPath, endedWithStop: true));
        Assert.Null(TaskAnswers.Extract(EvalTask.Chain, otherPath, endedWithStop: false));
        Assert.Null(ChainTask.FinalSum("740+810=56"));
        Assert.True(TaskNames.TryParse("chain", out var task) && task == EvalTask.Chain);
    }

    private static string Canonical(string prompt) =>
        ChainTask.Canonical(prompt["Sum: ".Length..].TrimEnd('\n').Split(' ').Select(ArithmeticTask.Read));
}
