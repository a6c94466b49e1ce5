using Frugal.Evaluation;

namespace Frugal.Tests.Evaluation;

public class CorpusTests
{
    [Fact]
    public void Same_seed_gives_the_same_documents_and_another_seed_does_not()
    {
        string[] Draw(ulong seed)
        {
            var corpus = new CorpusGenerator(seed);
            return [.. Enumerable.Range(0, 40).Select(i => corpus.Next((DocumentKind)(i % 4)).Text)];
        }
        Assert.Equal(Draw(3), Draw(3));
        Assert.NotEqual(Draw(3), Draw(4));
    }

    [Fact]
    public void Held_out_sets_are_fixed_and_disjoint_from_training_documents()
    {
        Assert.Equal(HeldOutSets.Items(EvalTask.Copy, 20), HeldOutSets.Items(EvalTask.Copy, 20));
        var arithmetic = HeldOutSets.Items(EvalTask.Arithmetic, 300).Select(i => i.Prompt).ToHashSet();
        var copies = HeldOutSets.Items(EvalTask.Copy, 300).Select(i => i.Prompt + i.Expected).ToHashSet();
        var stories = HeldOutSets.Stories(200).ToHashSet();
        var recallFacts = HeldOutSets.Items(EvalTask.Recall, 30).Select(i => i.Prompt[..(i.Prompt.IndexOf('.') + 1)]).ToHashSet();
        var corpus = new CorpusGenerator(1);
        for (int i = 0; i < 20000; i++)
        {
            var doc = corpus.Next((DocumentKind)(i % 4));
            switch (doc.Kind)
            {
                case DocumentKind.Arithmetic: Assert.DoesNotContain(doc.Text[..(doc.Text.IndexOf('=') + 1)], arithmetic); break;
                case DocumentKind.Copy: Assert.DoesNotContain(doc.Text.TrimEnd('\n'), copies); break;
                case DocumentKind.Story: Assert.DoesNotContain(doc.Text, stories); break;
                case DocumentKind.Recall:
                    foreach (var fact in recallFacts) Assert.DoesNotContain(fact, doc.Text);
                    break;
            }
        }
    }

    [Fact]
    public void Arithmetic_writes_every_number_reversed_and_zero_padded()
    {
        Assert.Equal(new EvalItem("321+654=", "9750", ""), ArithmeticTask.Item(123, '+', 456));
        Assert.Equal(new EvalItem("999+999=", "8991", ""), ArithmeticTask.Item(999, '+', 999));
        Assert.Equal(new EvalItem("015-010=", "005", ""), ArithmeticTask.Item(510, '-', 10));
        Assert.Equal(new EvalItem("700+000=", "7000", ""), ArithmeticTask.Item(7, '+', 0));
        Assert.Throws<ArgumentException>(() => ArithmeticTask.Item(1, '*', 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ArithmeticTask.Item(1000, '+', 2));
        Assert.Equal(579, ArithmeticTask.Read("9750"));
        foreach (var item in HeldOutSets.Items(EvalTask.Arithmetic, 200))
        {
            var parts = item.Prompt.TrimEnd('=').Split('+');
            Assert.Equal(3, parts[0].Length);
            Assert.Equal(3, parts[1].Length);
            Assert.NotEqual('0', parts[0][^1]);    // held-out operands are 3-digit numbers: no padding
            Assert.Equal(4, item.Expected.Length);
            Assert.Equal(ArithmeticTask.Read(parts[0]) + ArithmeticTask.Read(parts[1]), ArithmeticTask.Read(item.Expected));
        }
    }

    [Fact]
    public void Recall_items_ask_for_the_code_of_the_opening_fact()
    {
        foreach (var item in HeldOutSets.Items(EvalTask.Recall, 20))
        {
            var first = item.Prompt[..(item.Prompt.IndexOf('.') + 1)];    // "The code for Anna is 4821."
            string name = first.Split(' ')[3];
            Assert.EndsWith(RecallTask.Question(name), item.Prompt);
            Assert.Equal(" " + first, item.Expected);
            Assert.Equal(RecallTask.Answer(name, int.Parse(first.Split(' ')[5].TrimEnd('.'))), item.Expected);
            Assert.True(item.Prompt.Length > RecallDefaults.FillerChars);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(item.Prompt, $"The code for {name} is"));
        }
    }

    [Fact]
    public void Recall_filler_never_opens_or_ends_a_story_so_story_openings_only_start_stories()
    {
        var corpus = new CorpusGenerator(5);
        string[] storyOnly = ["Once upon a time", "One ", "Every morning,", "In the end,", "became best friends", "It was the best day ever"];
        for (int i = 0; i < 20; i++)
        {
            string recall = corpus.Next(DocumentKind.Recall).Text;
            Assert.Contains("The code for", recall);
            foreach (var phrase in storyOnly) Assert.DoesNotContain(phrase, recall);
        }
        foreach (var item in HeldOutSets.Items(EvalTask.Recall, 20))
            foreach (var phrase in storyOnly) Assert.DoesNotContain(phrase, item.Prompt);
        // Stories still open with them.
        var rng = new SplitMix64(3);
        Assert.Contains(Enumerable.Range(0, 20).Select(_ => StoryGrammar.Story(rng)), s => s.StartsWith("Once upon a time", StringComparison.Ordinal));
    }

    [Fact]
    public void Copy_items_expect_the_list_verbatim()
    {
        foreach (var item in HeldOutSets.Items(EvalTask.Copy, 50))
        {
            string list = item.Prompt["Copy: ".Length..item.Prompt.IndexOf('\n')];
            Assert.Equal(" " + list, item.Expected);
            Assert.EndsWith("\nAgain:", item.Prompt);
        }
    }

    [Fact]
    public void Scoring_requires_the_answer_then_its_terminator_or_eos()
    {
        var sum = ArithmeticTask.Item(100, '+', 200);   // "001+002=" -> "0030" then end of sequence
        Assert.True(HeldOutSets.IsCorrect(sum, "0030", endedWithEos: true));
        Assert.False(HeldOutSets.IsCorrect(sum, "00301", endedWithEos: true));
        Assert.False(HeldOutSets.IsCorrect(sum, "0030", endedWithEos: false));
        var recall = new EvalItem("What is the code for Ben?", " 4821");
        Assert.True(HeldOutSets.IsCorrect(recall, " 4821\nWhat", endedWithEos: false));
        Assert.False(HeldOutSets.IsCorrect(recall, " 48210", endedWithEos: false));
    }

    [Fact]
    public void Wilson_interval_brackets_the_accuracy()
    {
        var estimate = new AccuracyEstimate(90, 100);
        var (low, high) = estimate.Interval;
        Assert.Equal(0.9, estimate.Accuracy, 10);
        Assert.Equal(0.8256, low, 3);   // Wilson 95% for 90/100
        Assert.Equal(0.9448, high, 3);
        Assert.Equal(1.0, new AccuracyEstimate(10, 10).Interval.High, 10);
    }
}
