using Frugal.Inference.Generation;
using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;

namespace Frugal.Tests.Speculation;

[Collection(BuiltInPair.Collection)]
public class SpeculativeGreedyTests
{
    private static GenerationOptions Options(SpeculationOptions spec, int maxTokens = 48, SamplingOptions? sampling = null) => new()
    {
        MaxTokens = maxTokens,
        Sampling = sampling ?? SamplingOptions.Greedy,
        Speculation = spec,
    };

    private static int[] Tokens(string prompt, GenerationOptions options) =>
        new TextGenerator(BuiltInPair.Main, BuiltInPair.Tokenizer).Generate(prompt, options).Tokens.ToArray();

    public static TheoryData<SpeculationMode, int> Cases() => new()
    {
        { SpeculationMode.Lookup, 1 }, { SpeculationMode.Lookup, 3 }, { SpeculationMode.Lookup, 8 },
        { SpeculationMode.Draft, 1 }, { SpeculationMode.Draft, 4 }, { SpeculationMode.Draft, 8 },
        { SpeculationMode.Auto, 5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Greedy_speculative_output_is_plain_greedy_output_token_for_token(SpeculationMode mode, int draftMax)
    {
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = mode, DraftMax = draftMax, DraftModel = BuiltInPair.Draft };
        long drafted = 0, accepted = 0;
        foreach (string prompt in BuiltInPair.Prompts)
        {
            var plain = Tokens(prompt, Options(SpeculationOptions.Off));
            var result = new TextGenerator(BuiltInPair.Main, BuiltInPair.Tokenizer).Generate(prompt, Options(spec));
            Assert.Equal(plain, result.Tokens);
            drafted += result.Timings.Speculation.Drafted;
            accepted += result.Timings.Speculation.Accepted;
        }
        // The drafts were really verified, and some of them rejected (rejections exercise the rollback).
        Assert.True(accepted > 0, $"no draft accepted ({drafted} drafted)");
        Assert.True(accepted <= drafted);
    }

    [Fact]
    public void Greedy_speculation_with_penalties_and_logit_bias_keeps_the_plain_output()
    {
        var sampling = SamplingOptions.Greedy with { RepeatPenalty = 1.3f, PenaltyLastN = 32, LogitBias = new Dictionary<int, float> { [32] = 2f } };
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = SpeculationMode.Auto, DraftMax = 6, DraftModel = BuiltInPair.Draft };
        foreach (string prompt in BuiltInPair.Prompts)
            Assert.Equal(Tokens(prompt, Options(SpeculationOptions.Off, sampling: sampling)), Tokens(prompt, Options(spec, sampling: sampling)));
    }

    [Fact]
    public void Prompt_lookup_drafts_the_continuation_of_the_latest_match()
    {
        var drafts = new int[4];
        int n = PromptLookupDrafter.Draft([1, 2, 3, 4, 5, 9, 9, 2, 3], drafts);
        Assert.Equal(4, n);
        Assert.Equal([4, 5, 9, 9], drafts);
        Assert.Equal(0, PromptLookupDrafter.Draft([1, 2, 3, 4], drafts));
    }

    [Fact]
    public void The_controller_stops_drafting_when_drafts_are_rejected_and_lengthens_them_when_accepted()
    {
        var controller = new SpeculationController(maxDraft: 8, costPerToken: 0.12);
        for (int i = 0; i < 20; i++) controller.Record(controller.NextLength() is > 0 and var k ? k : 1, 0);
        Assert.Equal(0, controller.NextLength());
        var good = new SpeculationController(maxDraft: 8, costPerToken: 0.12);
        for (int i = 0; i < 20; i++) { int k = Math.Max(1, good.NextLength()); good.Record(k, k); }
        Assert.Equal(8, good.NextLength());
    }

    [Fact]
    public void Measured_step_costs_replace_the_linear_prior_for_the_lengths_that_were_timed()
    {
        var controller = new SpeculationController(maxDraft: 8, costPerToken: 0.12);
        for (int i = 0; i < 20; i++) { int k = Math.Max(1, controller.NextLength()); controller.Record(k, k); }
        Assert.Equal(8, controller.NextLength());
        // Steps of 5-8 drafted tokens measured 3x a plain step (a kernel tile boundary), 4 measured 1.6x: 4 wins.
        for (int k = 5; k <= 8; k++) controller.ObserveCost(k, 3.0);
        controller.ObserveCost(4, 1.6);
        Assert.Equal(4, controller.NextLength());
        // Every length measured, again and again (a moving average), slower than it could yield: no drafting.
        for (int i = 0; i < 40; i++)
            for (int k = 1; k <= 8; k++) controller.ObserveCost(k, 20.0);
        Assert.Equal(0, controller.NextLength());
    }

    [Fact]
    public void A_draft_model_with_another_vocabulary_is_refused_with_a_clear_error()
    {
        using var other = Frugal.Models.ModelLoader.Load(Engine.ServingModels.Tiny);
        var spec = new SpeculationOptions { AdaptToClock = false, Mode = SpeculationMode.Draft, DraftModel = other };
        var e = Assert.Throws<ArgumentException>(() => Tokens("Once", Options(spec)));
        Assert.Contains("vocabulary", e.Message);
    }
}
