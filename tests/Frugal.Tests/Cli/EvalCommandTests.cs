using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Frugal.Evaluation;
using Frugal.Tests.Inference;
using Frugal.Tests.Training;
using Frugal.Tokenization;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal eval</c>: greedy held-out accuracy through the engine, its output shapes and its errors.</summary>
public sealed partial class EvalCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void Built_in_model_copies_held_out_lists_and_json_reports_a_consistent_interval()
    {
        // No MODEL: the built-in model beside the executable, as `frugal run` uses.
        var o = _cli.Run("eval", "--task", "copy", "--n", "12", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        Assert.Single(o.Out.Trim().Split('\n'));
        var r = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal("copy", r.GetProperty("task").GetString());
        Assert.Equal(12, r.GetProperty("n").GetInt32());
        int correct = r.GetProperty("correct").GetInt32();
        double accuracy = r.GetProperty("accuracy").GetDouble();
        Assert.Equal(correct / 12.0, accuracy, 1e-12);
        var (low, high) = new AccuracyEstimate(correct, 12).Interval;
        Assert.Equal(low, r.GetProperty("ci_low").GetDouble(), 1e-12);
        Assert.Equal(high, r.GetProperty("ci_high").GetDouble(), 1e-12);
        Assert.True(low <= accuracy && accuracy <= high);
        Assert.True(accuracy >= 0.9, $"the shipped model copied only {correct}/12 held-out lists");
    }

    [Fact]
    public void Text_line_gives_accuracy_count_and_interval_in_percent()
    {
        string model = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        var o = _cli.Run("eval", model, "--task", "arithmetic", "--n", "5");
        Assert.True(o.ExitCode == 0, o.Error);
        var m = TextLine().Match(o.Out.Trim());
        Assert.True(m.Success, o.Out);
        int correct = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        var estimate = new AccuracyEstimate(correct, 5);
        Assert.Equal(F1(estimate.Accuracy), m.Groups[1].Value);
        Assert.Equal(F1(estimate.Interval.Low), m.Groups[3].Value);
        Assert.Equal(F1(estimate.Interval.High), m.Groups[4].Value);
    }

    private static string F1(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^arithmetic: accuracy (\d+\.\d)% \((\d+)/5\), 95% CI \[(\d+\.\d)%, (\d+\.\d)%\]$")]
    private static partial Regex TextLine();

    [Fact]
    public void A_model_that_answers_exactly_then_its_terminator_scores_and_one_that_differs_does_not()
    {
        var item = HeldOutSets.Items(EvalTask.Copy, 1)[0];
        string path = _cli.WriteModel("m.gguf");
        var right = _cli.RunFake(item.Expected + item.Terminator + "more", 512, "eval", path, "--task", "copy", "--n", "1", "--json");
        var wrong = _cli.RunFake(item.Expected[..^1] + item.Terminator, 512, "eval", path, "--task", "copy", "--n", "1", "--json");
        Assert.True(right.ExitCode == 0, right.Error);
        Assert.Equal(1, JsonDocument.Parse(right.Out).RootElement.GetProperty("correct").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(wrong.Out).RootElement.GetProperty("correct").GetInt32());
    }

    [Fact]
    public void An_empty_terminator_needs_end_of_generation_right_after_the_answer()
    {
        var item = HeldOutSets.Items(EvalTask.Arithmetic, 1)[0];
        Assert.Equal("", item.Terminator);
        string path = _cli.WriteModel("m.gguf");
        // The scripted model emits EOS when its script ends.
        var right = _cli.RunFake(item.Expected, 512, "eval", path, "--task", "arithmetic", "--n", "1", "--json");
        var longer = _cli.RunFake(item.Expected + "0", 512, "eval", path, "--task", "arithmetic", "--n", "1", "--json");
        Assert.Equal(1, JsonDocument.Parse(right.Out).RootElement.GetProperty("correct").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(longer.Out).RootElement.GetProperty("correct").GetInt32());
    }

    [Theory]
    [InlineData("--task", "poetry", "--task: unknown task 'poetry' (expected arithmetic, recall, copy, copy-long, chain)")]
    [InlineData("--n", "0", "--n: expected at least 1 item, got 0")]
    [InlineData("--seed", "-4", "Cannot parse argument '-4' for option '--seed'")]
    public void Bad_arguments_are_one_line_errors(string option, string value, string expected)
    {
        string model = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        string[] args = option == "--task" ? ["eval", model, option, value] : ["eval", model, "--task", "copy", option, value];
        AssertError(_cli.Run(args), expected);
    }

    [Fact]
    public void Missing_task_or_built_in_model_and_an_unusable_tokenizer_are_one_line_errors()
    {
        AssertError(_cli.Run("eval", Path.Combine(ShippedModels.Directory, "frugal-main.gguf")), "--task");
        _cli.DefaultModelPath = Path.Combine(_cli.Directory, "absent.gguf");
        AssertError(_cli.Run("eval", "--task", "copy"), "the built-in model is missing");
        var o = _cli.Run(_ => CliHarness.ScriptedModel("1", 512), _ => new DigitlessTokenizer(), "eval", _cli.WriteModel("m.gguf"), "--task", "arithmetic", "--n", "3");
        AssertError(o, "the model's tokenizer cannot encode the arithmetic items");
    }

    [Fact]
    public void Recall_needs_a_context_that_holds_its_items()
    {
        var o = _cli.RunFake("1", 256, "eval", _cli.WriteModel("m.gguf"), "--task", "recall", "--n", "2");
        AssertError(o, "no recall item fits");
    }

    private static void AssertError(CliHarness.Outcome o, string expected)
    {
        Assert.Equal(1, o.ExitCode);
        Assert.Contains(expected, o.Error);
        Assert.DoesNotContain("   at ", o.Error + o.Out);
        Assert.Single(o.Error.Trim().Split('\n'));
    }

    /// <summary>A byte tokenizer with no tokens for digits: it drops them, as a BPE vocabulary drops characters it lacks.</summary>
    private sealed class DigitlessTokenizer : Tokenizer
    {
        private readonly ByteTokenizer _bytes = new();

        public override int VocabSize => _bytes.VocabSize;
        public override int? BosId => _bytes.BosId;
        public override int? EosId => _bytes.EosId;
        public override bool AddBos => true;
        public override IReadOnlySet<int> EndOfGeneration => _bytes.EndOfGeneration;

        public override int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true) =>
            [.. _bytes.Encode(text, addSpecial, parseSpecial).Where(id => id is < '0' or > '9')];

        public override byte[] TokenBytes(int id) => _bytes.TokenBytes(id);

        public override string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false) => _bytes.Decode(ids, skipSpecial);
    }
}
