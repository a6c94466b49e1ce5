using System.Text.Json;
using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Inference.Voting;
using Frugal.Models;
using Frugal.Tests.Training;
using Frugal.Tokenization;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal solve</c>: repeated sampling with a vote on a task family, its JSON and its errors.</summary>
public sealed class SolveCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Uniform_vote_on_chain_is_the_libraries_vote_over_the_same_seeded_samples_at_temperature_0_7()
    {
        var o = _cli.Run("solve", "--task", "chain", "--budget", "4", "--n-items", "12", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        var r = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal("chain", r.GetProperty("task").GetString());
        Assert.Equal("held-out", r.GetProperty("split").GetString());
        Assert.Equal("uniform", r.GetProperty("policy").GetString());
        Assert.Equal(0.7, r.GetProperty("temperature").GetDouble(), 1e-6);   // the default: voting-curves' development choice
        Assert.Equal(48, r.GetProperty("samples").GetInt32());
        Assert.False(r.TryGetProperty("probe", out _));

        // The same items, sampling and seeds through the library: the CLI must give exactly this vote and these tokens.
        string path = Path.Combine(ShippedModels.Directory, "frugal-main.gguf");
        using var file = GgufFile.Open(path);
        using var lm = ModelLoader.Load(path);
        using var engine = new InferenceEngine(lm, Tokenizer.FromGguf(file), new EngineOptions { MaxRunningSequences = 32 });
        var experiment = new VotingExperiment(engine, EvalTask.Chain, new SamplingOptions { Temperature = 0.7f, TopK = 0, TopP = 1, MinP = 0 }, seed: 1);
        var items = experiment.Items(TaskSplit.HeldOut, 12);
        var solved = await RepeatedSampling.RunAsync(items.Count, new UniformPolicy(4), experiment.Source(items).Source);
        int correct = solved.Count(s => TaskAnswers.IsCorrect(items[s.Prompt], s.Vote.Answer));
        Assert.Equal(correct, r.GetProperty("correct").GetInt32());
        Assert.Equal(solved.Sum(s => (long)s.Tokens), r.GetProperty("tokens_generated").GetInt64());
        var (low, high) = new AccuracyEstimate(correct, 12).Interval;
        Assert.Equal(low, r.GetProperty("ci_low").GetDouble(), 1e-12);
        Assert.Equal(high, r.GetProperty("ci_high").GetDouble(), 1e-12);
    }

    [Fact]
    public void Allocated_early_stop_reports_the_recipe_it_fitted_on_the_development_split()
    {
        var o = _cli.Run("solve", "--task", "chain", "--budget", "3", "--n-items", "16", "--dev-items", "32", "--policy", "allocated-early-stop", "--json");
        Assert.True(o.ExitCode == 0, o.Error);
        var r = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal("allocated-early-stop", r.GetProperty("policy").GetString());
        Assert.Equal(16, r.GetProperty("n").GetInt32());
        int probe = r.GetProperty("probe").GetInt32();
        var extras = r.GetProperty("extra_by_agreement").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.InRange(probe, 2, 3);
        Assert.Equal(probe + 1, extras.Length);
        // Every item draws at least one sample and at most its cap; the tokens are the samples' own.
        int samples = r.GetProperty("samples").GetInt32();
        Assert.InRange(samples, 16, 16 * (probe + extras.Max()));
        Assert.True(r.GetProperty("tokens_generated").GetInt64() >= samples, o.Out);
        Assert.Equal(r.GetProperty("correct").GetInt32() / 16.0, r.GetProperty("accuracy").GetDouble(), 1e-12);
        // A stop rule is always reported: a vote count and share, a lead, or a confidence, each field null when off.
        Assert.True(r.TryGetProperty("stop_min_votes", out _) && r.TryGetProperty("stop_min_lead", out _) && r.TryGetProperty("stop_min_logprob", out _));
    }

    [Theory]
    [InlineData("--task nope --budget 2", "--task: unknown task 'nope'")]
    [InlineData("--task chain --budget 2.5", "--budget: uniform sampling needs a whole number of samples, got 2.5")]
    [InlineData("--task chain --budget 1.5 --policy allocated", "--budget: the allocated policies need at least 2 samples per item")]
    [InlineData("--task chain --budget 17", "--budget: expected a mean of 1 to 16 samples per item, got 17")]
    [InlineData("--task chain --budget 2 --policy best", "--policy: unknown policy 'best'")]
    [InlineData("--task chain --budget 2 --temp 3", "--temp: expected 0 to 2, got 3")]
    public void Bad_options_are_refused_with_a_message_that_names_them(string args, string expected)
    {
        var o = _cli.Run(["solve", .. args.Split(' ')]);
        Assert.NotEqual(0, o.ExitCode);
        Assert.Contains(expected, o.Error);
        Assert.DoesNotContain("   at ", o.Error + o.Out);
    }
}
