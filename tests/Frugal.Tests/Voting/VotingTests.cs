using Frugal.Inference.Voting;

namespace Frugal.Tests.Voting;

public class VotingTests
{
    private static SampleAnswer S(string? answer, double logprob = -1, int tokens = 10) => new(answer, tokens, logprob);

    [Fact]
    public void Majority_counts_answers_and_breaks_a_tie_by_the_best_mean_logprob()
    {
        var vote = AnswerVote.Majority([S("a", -2), S("b", -0.5), S("a", -3), S("b", -4), S(null), S("c")]);
        Assert.Equal("b", vote.Answer); // 2-2 tie: b's best sample scores -0.5 against a's -2
        Assert.Equal([new AnswerCount("b", 2), new AnswerCount("a", 2), new AnswerCount("c", 1)], vote.Counts);
        Assert.Equal(1, vote.Abstained);
        Assert.Equal(2.0 / 6, vote.LeaderShare, 12);
        // Entropy over (2, 2, 1, 1 abstained) of 6.
        double h = -(2 * (2.0 / 6) * Math.Log2(2.0 / 6) + 2 * (1.0 / 6) * Math.Log2(1.0 / 6));
        Assert.Equal(h, vote.EntropyBits, 12);
        Assert.Equal("a", AnswerVote.Majority([S("a"), S("a"), S("b", 0)]).Answer);
        Assert.Null(AnswerVote.Majority([S(null), S(null)]).Answer);
    }

    [Fact]
    public void Best_of_n_takes_the_answer_with_the_highest_mean_logprob()
    {
        Assert.Equal("x", AnswerVote.BestOfN([S("y", -1.5), S("x", -0.2), S(null, 0), S("y", -0.9)]));
        Assert.Null(AnswerVote.BestOfN([S(null)]));
    }

    [Fact]
    public void Allocated_policy_probes_then_gives_the_extras_its_agreement_level_maps_to()
    {
        var mapping = new AllocationMapping(3, [5, 4, 2, 0]);
        var policy = new AllocatedPolicy(mapping);
        Assert.Equal(3, policy.Next([]));
        Assert.Equal(0, policy.Next([S("a"), S("a"), S("a")]));          // unanimous probes: done
        Assert.Equal(2, policy.Next([S("a"), S("b"), S("a")]));          // 2 of 3 agree
        Assert.Equal(4, policy.Next([S("a"), S("b"), S("c")]));
        Assert.Equal(5, policy.Next([S(null), S(null), S(null)]));
        Assert.Equal(0, policy.Next([S("a"), S("b"), S("a"), S("b"), S("b")])); // extras drawn
        Assert.Equal(8, policy.MaxSamples);
        Assert.Throws<ArgumentException>(() => new AllocationMapping(2, [1, 2]));
    }

    [Fact]
    public void Early_stop_ends_a_prompt_once_its_leader_is_certain_and_otherwise_at_its_cap()
    {
        var policy = new AllocatedEarlyStopPolicy(new AllocationMapping(4, [4, 4, 4, 2, 0]), new EarlyStopRule(2, 1.0));
        Assert.Equal(1, policy.Next([]));
        Assert.Equal(1, policy.Next([S("a")]));                  // one vote is not yet certain
        Assert.Equal(0, policy.Next([S("a"), S("a")]));          // two agreeing: stop at 2 instead of 4
        Assert.Equal(1, policy.Next([S("a"), S("b")]));
        var contested = new[] { S("a"), S("b"), S("a"), S("c") }; // probes agree 2 of 4: cap 4 + 4
        Assert.Equal(1, policy.Next(contested));
        Assert.Equal(0, policy.Next([.. contested, S("a"), S("b"), S("c"), S("b")]));
    }

    [Fact]
    public void Fit_spends_the_budget_on_contested_prompts_where_more_votes_turn_the_answer()
    {
        // 6 easy prompts: both probes right. 4 contested prompts: probes split, and the right answer "r" leads only
        // with more samples (w wins the first 2, 3 and 4 samples). isCorrect wants "r" everywhere.
        var easy = Enumerable.Range(0, 6).Select(_ => (IReadOnlyList<SampleAnswer>)Enumerable.Repeat(S("r"), 8).ToList());
        // w's samples score higher, so w wins ties: r needs 5 samples (3-2) to lead.
        IReadOnlyList<SampleAnswer> hard = [S("w", -0.5), S("r"), S("w", -0.5), S("r"), S("r"), S("r"), S("w", -0.5), S("r")];
        var pools = easy.Concat(Enumerable.Repeat(hard, 4)).ToList();
        var (mapping, correct) = AllocationMapping.Fit(pools, (_, a) => a == "r", probe: 2, budget: 4, maxExtra: 6);
        Assert.Equal(10, correct);
        Assert.Equal(0, mapping.Extra(2));      // agreed prompts get nothing
        Assert.Equal(3, mapping.Extra(1));      // 2 + 3: r leads 3-2, the cheapest extra that turns it
        // The budget holds: 6 x 2 + 4 x (2 + extra) <= 4 x 10.
        Assert.True(6 * 2 + 4 * (2 + mapping.Extra(1)) <= 40);

        var tight = AllocationMapping.Fit(pools, (_, a) => a == "r", probe: 2, budget: 2, maxExtra: 6);
        Assert.Equal([0, 0, 0], tight.Mapping.ExtraByAgreement);
    }

    [Fact]
    public void Fit_prices_extra_samples_in_tokens_so_short_answers_get_the_budget_long_ones_would_overspend()
    {
        SampleAnswer T(string answer, int tokens) => new(answer, tokens, answer == "w" ? -0.5 : -1); // w wins a tie
        // Probe 3. Easy (4): all right. Long (5, 40 tokens a sample): probes all differ, r leads after 2 more.
        // Short (4, 10 tokens): probes w w r, r leads after 2 more. Each contested bucket needs 2 extra samples a prompt.
        var easy = Enumerable.Range(0, 4).Select(_ => (IReadOnlyList<SampleAnswer>)Enumerable.Repeat(T("r", 10), 5).ToList());
        var longOnes = Enumerable.Range(0, 5).Select(_ => (IReadOnlyList<SampleAnswer>)[T("a", 40), T("b", 40), T("c", 40), T("r", 40), T("r", 40)]);
        var shortOnes = Enumerable.Range(0, 4).Select(_ => (IReadOnlyList<SampleAnswer>)[T("w", 10), T("w", 10), T("r", 10), T("r", 10), T("r", 10)]);
        var pools = easy.Concat(longOnes).Concat(shortOnes).ToList();
        // A budget of 10 extra samples over the 13 prompts: counted in samples it would buy the long bucket (5 right
        // for 10 samples, 400 tokens); counted in tokens (10 mean samples of 21.5 tokens = 215) only the short one fits.
        var (mapping, correct) = AllocationMapping.Fit(pools, (_, a) => a == "r", probe: 3, budget: 3 + 10.0 / 13, maxExtra: 2);
        Assert.Equal(2, mapping.Extra(2));   // the short bucket (w w r: leader 2 of 3)
        Assert.Equal(0, mapping.Extra(1));   // the long bucket (a b c)
        Assert.Equal(0, mapping.Extra(3));
        Assert.Equal(8, correct);
        // With room for both, both are bought.
        Assert.Equal(13, AllocationMapping.Fit(pools, (_, a) => a == "r", probe: 3, budget: 5, maxExtra: 2).Correct);
    }

    [Fact]
    public async Task Replay_draws_samples_in_index_order_and_refuses_to_run_past_the_pool()
    {
        IReadOnlyList<IReadOnlyList<SampleAnswer>> pools = [[S("a", tokens: 3), S("b", tokens: 4), S("b", tokens: 5)]];
        var solved = await RepeatedSampling.RunAsync(1, new UniformPolicy(3), RepeatedSampling.Replay(pools));
        Assert.Equal("b", solved[0].Vote.Answer);
        Assert.Equal(12, solved[0].Tokens);
        await Assert.ThrowsAsync<InvalidOperationException>(() => RepeatedSampling.RunAsync(1, new UniformPolicy(4), RepeatedSampling.Replay(pools)));
    }
}
