using Frugal.Evaluation;
using Frugal.Inference.Voting;

namespace Frugal.Tests.Voting;

public class VotingSelectionTests
{
    private static SampleAnswer S(string? answer, double logprob = -1, int tokens = 10) => new(answer, tokens, logprob);

    [Fact]
    public void Temperature_choice_takes_the_best_vote_at_8_then_the_larger_gain_over_greedy_then_the_lower_temperature()
    {
        var (chosen, reason) = TemperatureChoice.Pick([
            new TemperatureTrial(0.3f, 200, 90, 90, 91, 91),
            new TemperatureTrial(0.7f, 200, 90, 85, 97, 99),
            new TemperatureTrial(1.0f, 200, 90, 78, 93, 100),
        ]);
        Assert.Equal(0.7f, chosen.Temperature);
        Assert.Contains("best development vote@8 (97/200; next best 93 at temperature 1)", reason);

        // vote@8 tied: the larger vote@16 - greedy gain wins.
        Assert.Equal(1.0f, TemperatureChoice.Pick([new TemperatureTrial(0.5f, 50, 20, 20, 22, 22), new TemperatureTrial(1.0f, 50, 20, 18, 22, 24)]).Chosen.Temperature);
        // Both tied: the lower temperature.
        var tie = TemperatureChoice.Pick([new TemperatureTrial(1.0f, 50, 20, 18, 22, 24), new TemperatureTrial(0.5f, 50, 20, 20, 22, 24)]);
        Assert.Equal(0.5f, tie.Chosen.Temperature);
        Assert.Contains("the lower temperature", tie.Reason);
        Assert.Throws<ArgumentException>(() => TemperatureChoice.Pick([new TemperatureTrial(0.5f, 50, 20, 20, 22, 24), new TemperatureTrial(1f, 40, 20, 20, 22, 24)]));
        Assert.Throws<ArgumentException>(() => TemperatureChoice.Pick([]));
    }

    [Fact]
    public void Early_stop_with_a_confidence_threshold_ends_after_one_sure_sample_but_never_on_disagreement()
    {
        var rule = new EarlyStopRule(3, 0.75, MinLogprob: -0.1);
        Assert.False(rule.IsCertain([]));
        Assert.True(rule.IsCertain([S("a", -0.05)]));                 // one sample, confident enough
        Assert.False(rule.IsCertain([S("a", -0.3)]));                 // one sample, not confident
        Assert.False(rule.IsCertain([S(null, 0)]));                   // no answer is never certain
        Assert.True(rule.IsCertain([S("a", -0.3), S("a", -0.08)]));   // unanimous, and one of them is sure
        Assert.False(rule.IsCertain([S("a", -0.01), S("b", -0.5)]));  // a sure sample does not outvote disagreement
        Assert.True(rule.IsCertain([S("a"), S("a"), S("b"), S("a")])); // the vote rule alone: 3 of 4 = 75%

        var policy = new AllocatedEarlyStopPolicy(new AllocationMapping(2, [2, 2, 0]), rule);
        Assert.Equal(0, policy.Next([S("a", -0.05)]));
        Assert.Equal(1, policy.Next([S("a", -0.5)]));
        Assert.Equal(0, new AllocatedEarlyStopPolicy(new AllocationMapping(2, [2, 2, 0]), new EarlyStopRule(3, 0.75)).Next([S("a", -0.5), S("a", -0.6)])); // cap 2 + 0
    }

    [Fact]
    public void Early_stop_on_a_lead_ends_when_the_leader_is_that_far_ahead_of_the_runner_up()
    {
        var rule = new EarlyStopRule(int.MaxValue, 1.0, MinLead: 2);
        Assert.False(rule.IsCertain([S("a")]));                                 // 1 ahead of nothing
        Assert.True(rule.IsCertain([S("a"), S("a")]));                          // 2 - 0
        Assert.False(rule.IsCertain([S("a"), S("b"), S("a")]));                 // 2 - 1
        Assert.True(rule.IsCertain([S("a"), S("b"), S("a"), S("a")]));          // 3 - 1
        Assert.False(rule.IsCertain([S("a"), S("b"), S("a"), S("b"), S("c")])); // 2 - 2
        Assert.False(rule.IsCertain([S(null), S(null)]));                       // abstentions are no lead
        Assert.True(rule.IsCertain([S("a"), S(null), S("a")]));                 // and do not count against one
        Assert.Equal("leader ahead by >= 2 votes", rule.ToString());
        Assert.False(new EarlyStopRule(3, 0.75).IsCertain([S("a"), S("a")]));   // off by default
    }

    [Fact]
    public void Confidence_thresholds_are_off_plus_the_5_percent_quantiles_of_the_first_samples_signal()
    {
        // First samples' mean logprobs -0.00, -0.01, ..., -0.19 (one unanswered pool is left out).
        var pools = Enumerable.Range(0, 20).Select(i => (IReadOnlyList<SampleAnswer>)[S("a", -0.01 * i), S("b", -5)]).Append([S(null, 0)]).ToList();
        var t = VotingExperiment.ConfidenceThresholds(pools, s => s.MeanLogprob);
        Assert.True(double.IsPositiveInfinity(t[0]));
        // Quantile q/20: the value with q twentieths of the first samples below it (ascending: -0.19 ... -0.00), highest first.
        Assert.Equal(Enumerable.Range(0, 19).Select(i => -0.01 * i).ToArray(), t.Skip(1).Select(x => Math.Round(x, 9)).ToArray());
        Assert.Equal(new[] { double.PositiveInfinity }, VotingExperiment.ConfidenceThresholds([[S(null)]], s => s.MeanLogprob));
        // A sample whose weakest token is unknown (NaN) gives no threshold.
        Assert.Equal(new[] { double.PositiveInfinity }, VotingExperiment.ConfidenceThresholds([[S("a")]], s => s.WeakestLogprob));
    }

    [Fact]
    public void Early_stop_on_the_weakest_token_ends_a_sure_copy_but_not_one_with_a_single_unlikely_token()
    {
        var rule = new EarlyStopRule(3, 0.75, MinWeakestLogprob: -0.5);
        // Same mean (-0.05), but the second sample has one token at -1.0: the skipped-item signature the mean dilutes.
        Assert.True(rule.IsCertain([new SampleAnswer("a", 20, -0.05, -0.2)]));
        Assert.False(rule.IsCertain([new SampleAnswer("a", 20, -0.05, -1.0)]));
        Assert.False(rule.IsCertain([new SampleAnswer("a", 20, -0.05)]));                                    // weakest token unknown
        Assert.False(rule.IsCertain([new SampleAnswer("a", 20, -0.05, -0.1), new SampleAnswer("b", 20, -0.05, -0.1)])); // disagreement
        Assert.Contains("least likely token", rule.ToString());
    }

    [Fact]
    public async Task Pool_prefixes_end_every_prompt_where_replaying_the_early_stop_policy_ends_it()
    {
        // Random pools of 12 samples over 3 answers, some unanswered, logprobs with NaN weakest tokens mixed in.
        var rng = new Random(11);
        var pools = Enumerable.Range(0, 60).Select(_ => (IReadOnlyList<SampleAnswer>)Enumerable.Range(0, 12).Select(_ =>
            new SampleAnswer(rng.Next(7) switch { 0 => null, < 4 => "a", 4 or 5 => "b", _ => "c" }, 5 + rng.Next(20), -rng.NextDouble(),
                rng.Next(3) == 0 ? double.NaN : -2 * rng.NextDouble())).ToList()).ToList();
        bool IsRight(int p, string? a) => a == (p % 2 == 0 ? "a" : "b");
        var prefixes = new PoolPrefixes(pools);
        Assert.Equal(60, prefixes.Prompts);
        var mappings = new[] { new AllocationMapping(2, [1, 6, 0]), new AllocationMapping(3, [0, 9, 2, 0]), new AllocationMapping(2, [8, 8, 8]) };
        var rules = new[]
        {
            new EarlyStopRule(2, 0.5), new EarlyStopRule(3, 0.75, MinLogprob: -0.3), new EarlyStopRule(int.MaxValue, 1.0, MinLead: 2),
            new EarlyStopRule(4, 1.0, MinWeakestLogprob: -0.5), new EarlyStopRule(int.MaxValue, 1.0),
        };
        int stoppedEarly = 0;
        foreach (var mapping in mappings)
            foreach (var rule in rules)
            {
                var policy = new AllocatedEarlyStopPolicy(mapping, rule);
                var replayed = await RepeatedSampling.RunAsync(pools.Count, policy, RepeatedSampling.Replay(pools), 1);
                var (correct, tokens) = prefixes.EarlyStop(mapping, rule, IsRight);
                Assert.Equal(replayed.Count(s => IsRight(s.Prompt, s.Vote.Answer)), correct);
                Assert.Equal(replayed.Sum(s => (long)s.Tokens), tokens);
                stoppedEarly += replayed.Count(s => s.Samples.Count < policy.MaxSamples);
            }
        Assert.True(stoppedEarly > 100, $"only {stoppedEarly} prompts stopped before their cap: the rules were not exercised");
        Assert.Equal("flat cap 10", mappings[2].ToString());
    }
}
