using Frugal.Inference.KvPaging;
using Frugal.Inference.Scheduling;

namespace Frugal.Tests.Scheduling;

public class SchedulerTests
{
    private static int[] Prompt(int length, int seed) => Enumerable.Range(0, length).Select(i => 10_000 + seed * 977 + i * 13).ToArray();

    private static (Scheduler Scheduler, FakeEngine Engine) Create(int blocks, int blockSize, SchedulerOptions options, bool stops = false)
    {
        var scheduler = new Scheduler(new KvBlockTables(new KvBlockPool(blocks, blockSize)), options);
        return (scheduler, new FakeEngine(scheduler, stops));
    }

    /// <summary>Runs steps until idle; returns every finished sequence's output.</summary>
    private static Dictionary<long, List<int>> RunToCompletion(Scheduler s, FakeEngine e, List<StepPlan>? plans = null, int maxSteps = 10_000)
    {
        var outputs = new Dictionary<long, List<int>>();
        for (int step = 0; s.HasWork && step < maxSteps; step++)
        {
            var plan = s.Plan();
            plans?.Add(plan);
            var outcome = s.Update(plan, e.Run(plan));
            foreach (var t in outcome.Appended)
                (outputs.TryGetValue(t.SequenceId, out var o) ? o : outputs[t.SequenceId] = []).Add(t.Token);
        }
        Assert.False(s.HasWork, "the scheduler did not drain");
        return outputs;
    }

    [Fact]
    public void Sequences_join_and_leave_between_steps()
    {
        var (s, e) = Create(64, 16, new SchedulerOptions { MaxTokensPerStep = 256 });
        s.Add(1, Prompt(10, 1), maxNewTokens: 3);
        var p0 = s.Plan();
        Assert.Equal([new ScheduledChunk(1, 0, 10, true)], p0.Chunks);
        s.Update(p0, e.Run(p0));

        s.Add(2, Prompt(5, 2), maxNewTokens: 2);  // joins while 1 is decoding
        var p1 = s.Plan();
        Assert.Equal([new ScheduledChunk(1, 10, 1, true), new ScheduledChunk(2, 0, 5, true)], p1.Chunks);
        s.Update(p1, e.Run(p1));

        var p2 = s.Plan();
        Assert.Equal([new ScheduledChunk(1, 11, 1, true), new ScheduledChunk(2, 5, 1, true)], p2.Chunks);
        var outcome = s.Update(p2, e.Run(p2));
        Assert.Equal([(1L, FinishReason.Length), (2L, FinishReason.Length)], outcome.Finished);
        Assert.False(s.HasWork);
        Assert.Equal(0, s.Kv.Pool.UsedBlocks);
        Assert.Equal(0, s.Kv.Count);
    }

    [Fact]
    public void Long_prompts_are_prefilled_in_chunks_behind_the_decodes_within_the_token_budget()
    {
        var (s, e) = Create(64, 16, new SchedulerOptions { MaxTokensPerStep = 8, MaxPrefillChunk = 6 });
        s.Add(1, Prompt(3, 1), maxNewTokens: 20);
        var p = s.Plan();
        s.Update(p, e.Run(p));
        s.Add(2, Prompt(20, 2), maxNewTokens: 2);

        var starts = new List<int>();
        for (int step = 0; step < 4; step++)
        {
            p = s.Plan();
            Assert.True(p.TotalTokens <= 8);
            Assert.True(p.Chunks[0].IsDecode && p.Chunks[0].SequenceId == 1, "the decode goes first");
            var prefill = Assert.Single(p.Chunks, c => c.SequenceId == 2);
            starts.Add(prefill.Start);
            Assert.Equal(Math.Min(6, 20 - prefill.Start), prefill.Count);
            Assert.Equal(prefill.Start + prefill.Count == 20, prefill.SamplesNext);
            s.Update(p, e.Run(p));
        }
        Assert.Equal([0, 6, 12, 18], starts);
        var outputs = RunToCompletion(s, e);
        Assert.Equal(FakeEngine.ExpectedOutput(Prompt(20, 2), 2, stops: false).Skip(1), outputs[2]); // first token came in the loop
    }

    [Fact]
    public void No_more_than_the_running_limit_advance_at_once()
    {
        var (s, e) = Create(64, 16, new SchedulerOptions { MaxRunningSequences = 2 });
        for (int i = 0; i < 5; i++) s.Add(i, Prompt(4 + i, i), maxNewTokens: 4);
        var plans = new List<StepPlan>();
        var outputs = RunToCompletion(s, e, plans);
        Assert.All(plans, p => Assert.True(p.Chunks.Count <= 2));
        Assert.Equal(2, plans[0].Chunks.Count);
        for (int i = 0; i < 5; i++)
            Assert.Equal(FakeEngine.ExpectedOutput(Prompt(4 + i, i), 4, stops: false), outputs[i]);
    }

    [Fact]
    public void A_repeated_prompt_prefix_is_computed_once()
    {
        var (s, e) = Create(64, 16, new SchedulerOptions());
        var system = Prompt(40, 7);
        s.Add(1, system, maxNewTokens: 2);
        RunToCompletion(s, e);
        long computedFirst = e.TokensComputed;

        int[] second = [.. system, 5, 6, 7];
        var seq = s.Add(2, second, maxNewTokens: 2);
        var p = s.Plan();
        Assert.Equal(new ScheduledChunk(2, 32, 11, true), Assert.Single(p.Chunks));
        s.Update(p, e.Run(p));
        Assert.Equal(32, seq.CachedPrefixTokens);
        Assert.Equal(32, s.Kv.PrefixHitTokens);
        Assert.Equal(1, s.Kv.PrefixHits);
        RunToCompletion(s, e);
        Assert.Equal(computedFirst + 11 + 1, e.TokensComputed);
    }

    [Fact]
    public void When_blocks_run_out_the_newest_sequence_is_preempted_and_later_resumes_with_the_same_output()
    {
        // 6 blocks of 4 tokens; each request needs up to 4 blocks (8 prompt + 8 new), so two cannot finish together.
        var (s, e) = Create(6, 4, new SchedulerOptions());
        s.Add(1, Prompt(8, 1), maxNewTokens: 8);
        s.Add(2, Prompt(8, 2), maxNewTokens: 8);
        var plans = new List<StepPlan>();
        var outputs = RunToCompletion(s, e, plans);

        var firstPreemption = plans.First(p => p.Preempted.Count > 0);
        Assert.Equal([2L], firstPreemption.Preempted);   // the newer one gives way
        Assert.True(s.TotalPreemptions >= 1);
        Assert.Equal(FakeEngine.ExpectedOutput(Prompt(8, 1), 8, stops: false), outputs[1]);
        Assert.Equal(FakeEngine.ExpectedOutput(Prompt(8, 2), 8, stops: false), outputs[2]);
        Assert.Equal(0, s.Kv.Pool.UsedBlocks);
    }

    [Fact]
    public void Cancelling_frees_blocks_at_once_and_ignores_results_already_in_flight()
    {
        var (s, e) = Create(16, 4, new SchedulerOptions());
        s.Add(1, Prompt(10, 1), maxNewTokens: 50);
        s.Add(2, Prompt(6, 2), maxNewTokens: 50);
        var p = s.Plan();
        s.Update(p, e.Run(p));
        p = s.Plan();
        var results = e.Run(p);
        Assert.True(s.Cancel(1));
        Assert.False(s.Cancel(1));
        Assert.Equal(s.Kv.BlocksFor(s.Find(2)!.ComputedTokens + 1), s.Kv.Pool.UsedBlocks);
        var outcome = s.Update(p, results);
        Assert.DoesNotContain(outcome.Appended, t => t.SequenceId == 1);
        Assert.True(s.Cancel(2));
        Assert.Equal(0, s.Kv.Pool.UsedBlocks);
        Assert.False(s.HasWork);
    }

    [Fact]
    public void Misuse_is_reported_clearly()
    {
        var (s, e) = Create(4, 4, new SchedulerOptions());
        var tooLong = Assert.Throws<ArgumentException>(() => s.Add(1, Prompt(10, 1), maxNewTokens: 10));
        Assert.Contains("need 5 KV blocks", tooLong.Message);
        Assert.Throws<ArgumentException>(() => s.Add(1, [], 1));
        s.Add(1, Prompt(3, 1), 2);
        Assert.Throws<ArgumentException>(() => s.Add(1, Prompt(3, 1), 2));
        var p = s.Plan();
        Assert.Throws<InvalidOperationException>(() => s.Plan());
        Assert.Throws<ArgumentException>(() => s.Update(p, []));
    }
}
