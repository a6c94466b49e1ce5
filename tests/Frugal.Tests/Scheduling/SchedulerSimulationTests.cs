using Frugal.Inference.KvPaging;
using Frugal.Inference.Scheduling;

namespace Frugal.Tests.Scheduling;

/// <summary>
/// Thousands of steps of random arrivals, shared prompt prefixes, stops, length limits and cancellations under a
/// tight KV pool, with a fixed seed. Each step checks the budgets and the block accounting; at the end every block
/// must be back and every request must have produced exactly what it would have produced alone.
/// </summary>
public class SchedulerSimulationTests
{
    private const int Blocks = 32, BlockSize = 8, Budget = 64, MaxRunning = 6;

    [Fact]
    public void Random_traffic_keeps_every_invariant_and_leaks_no_blocks()
    {
        var rng = new Random(20261126);
        var pool = new KvBlockPool(Blocks, BlockSize);
        var kv = new KvBlockTables(pool);
        var s = new Scheduler(kv, new SchedulerOptions { MaxTokensPerStep = Budget, MaxRunningSequences = MaxRunning, MaxPrefillChunk = 24 });
        var engine = new FakeEngine(s);
        var prefixes = Enumerable.Range(0, 4).Select(k => Enumerable.Range(0, 8 + 10 * k).Select(i => 7000 + k * 100 + i).ToArray()).ToArray();
        var prompts = new Dictionary<long, (int[] Prompt, int MaxNew)>();
        var outputs = new Dictionary<long, List<int>>();
        var finished = new Dictionary<long, FinishReason>();
        long nextId = 0, cancelled = 0;

        void CancelRandom()
        {
            var live = prompts.Keys.Where(id => !finished.ContainsKey(id)).ToList();
            if (live.Count == 0) return;
            long id = live[rng.Next(live.Count)];
            Assert.True(s.Cancel(id));
            finished[id] = FinishReason.Cancelled;
            cancelled++;
        }

        int step;
        for (step = 0; step < 5000 || (s.HasWork && step < 100_000); step++)
        {
            bool arrivals = step < 5000;
            if (arrivals && rng.NextDouble() < 0.25)
            {
                var prefix = rng.NextDouble() < 0.7 ? prefixes[rng.Next(prefixes.Length)] : [];
                int[] prompt = [.. prefix, .. Enumerable.Range(0, rng.Next(1, 30)).Select(_ => rng.Next(5000))];
                int maxNew = rng.Next(1, 40);
                s.Add(nextId, prompt, maxNew);
                prompts[nextId] = (prompt, maxNew);
                outputs[nextId] = [];
                nextId++;
            }
            if (arrivals && rng.NextDouble() < 0.02) CancelRandom();

            var plan = s.Plan();
            Assert.True(plan.TotalTokens <= Budget, $"step {step}: {plan.TotalTokens} tokens over the budget");
            Assert.True(plan.Chunks.Count <= MaxRunning);
            Assert.True(s.RunningCount <= MaxRunning);
            Assert.Equal(plan.Chunks.Count, plan.Chunks.Select(c => c.SequenceId).Distinct().Count());
            Assert.All(plan.Chunks, c => Assert.True(c.Count >= 1));
            if (s.HasWork && s.RunningCount > 0)
                Assert.False(plan.IsEmpty, $"step {step}: running sequences but nothing planned");

            var sampled = engine.Run(plan);
            if (arrivals && rng.NextDouble() < 0.01) CancelRandom(); // client gone while the step runs
            var outcome = s.Update(plan, sampled);
            foreach (var t in outcome.Appended) outputs[t.SequenceId].Add(t.Token);
            foreach (var (id, reason) in outcome.Finished)
            {
                finished[id] = reason;
                Assert.False(kv.Contains(id), $"finished sequence {id} still holds blocks");
            }

            pool.Validate();
            Assert.Equal(Blocks, pool.UsedBlocks + pool.FreeBlocks);
            long references = Enumerable.Range(0, Blocks).Sum(b => (long)pool.RefCount(b));
            long tableEntries = prompts.Keys.Where(id => !finished.ContainsKey(id) && kv.Contains(id)).Sum(id => (long)kv.BlockTable(id).Count);
            Assert.Equal(tableEntries, references);
            Assert.Equal(s.RunningCount, kv.Count);
        }

        Assert.False(s.HasWork, $"traffic did not drain {step - 5000} steps after arrivals stopped");
        Assert.Equal(0, pool.UsedBlocks);
        Assert.Equal(0, kv.Count);
        Assert.Equal(prompts.Count, finished.Count);
        foreach (var (id, (prompt, maxNew)) in prompts)
        {
            var expected = FakeEngine.ExpectedOutput(prompt, maxNew);
            if (finished[id] == FinishReason.Cancelled)
                Assert.Equal(expected.Take(outputs[id].Count), outputs[id]);
            else
                Assert.Equal(expected, outputs[id]);
        }
        // The run must actually have exercised what it claims to test.
        Assert.True(prompts.Count > 1000, $"{prompts.Count} requests");
        Assert.True(s.TotalPreemptions > 20, $"{s.TotalPreemptions} preemptions");
        Assert.True(kv.PrefixHits > 100, $"{kv.PrefixHits} prefix hits");
        Assert.True(pool.Evictions > 0, "no cached block was ever evicted");
        Assert.True(cancelled > 20, $"{cancelled} cancellations");
        Assert.Contains(finished.Values, r => r == FinishReason.Stop);
        Assert.Contains(finished.Values, r => r == FinishReason.Length);
    }
}
