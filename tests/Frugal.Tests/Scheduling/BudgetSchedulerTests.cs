using Frugal.Inference.KvPaging;
using Frugal.Inference.Retention;
using Frugal.Inference.Scheduling;

namespace Frugal.Tests.Scheduling;

/// <summary>
/// The scheduler under per-sequence KV budgets and context shift, with the fake engine (a position's "K/V" is its token
/// id): every step checks that no sequence holds more blocks than its budget needs, that every chunk reads back the
/// tokens the scheduler says its kept positions hold (compactions, copy-on-write of shared prefixes and preemption
/// included), and at the end that every block is back.
/// </summary>
public class BudgetSchedulerTests
{
    private const int BlockSize = 8;

    [Theory]
    [InlineData(KvEvictionPolicy.Window)]
    [InlineData(KvEvictionPolicy.Sinks)]
    [InlineData(KvEvictionPolicy.KeyDiff)]
    public void No_sequence_ever_holds_more_blocks_than_its_budget_needs(KvEvictionPolicy policy)
    {
        const int blocks = 40, context = 256;
        var rng = new Random(7 + (int)policy);
        var pool = new KvBlockPool(blocks, BlockSize);
        var kv = new KvBlockTables(pool);
        // A made-up key score per position (KeyDiff): any order exercises the scattered moves.
        var s = new Scheduler(kv, new SchedulerOptions { MaxTokensPerStep = 48, MaxRunningSequences = 5, MaxPrefillChunk = 20 },
            (table, count, scores) => { for (int i = 0; i < count; i++) scores[i] = (table[i / BlockSize] * 31 + i * 17) % 23; });
        var engine = new FakeEngine(s, stops: false);
        int[] shared = [.. Enumerable.Range(9000, 3 * BlockSize)];  // a prefix many prompts share: cached, then copied on write
        var limits = new Dictionary<long, int>();
        long id = 0;
        int step;
        for (step = 0; step < 1500 || (s.HasWork && step < 50_000); step++)
        {
            if (step < 1500 && rng.NextDouble() < 0.1)
            {
                int budget = rng.Next(2, 6) * BlockSize + rng.Next(0, BlockSize); // 16..47 positions, not always whole blocks
                var retention = new KvRetention(new KvRetentionOptions { Budget = budget, Policy = policy, Sinks = 3 }, context, BlockSize, startsWithBos: true);
                int[] prompt = [.. rng.NextDouble() < 0.6 ? shared : [], .. Enumerable.Range(0, rng.Next(1, 80)).Select(_ => rng.Next(5000))];
                s.Add(id, prompt, rng.Next(1, 120), retention);
                limits[id] = kv.BlocksFor(budget + BlockSize);
                id++;
            }
            var plan = s.Plan();
            var sampled = engine.Run(plan);
            s.Update(plan, sampled);
            pool.Validate();
            foreach (var (seq, limit) in limits)
                if (kv.Contains(seq))
                    Assert.True(kv.BlockTable(seq).Count <= limit, $"step {step}: sequence {seq} holds {kv.BlockTable(seq).Count} blocks, its budget needs {limit}");
        }
        Assert.False(s.HasWork, "the traffic did not drain");
        Assert.True(engine.Compactions > 100, $"only {engine.Compactions} compactions: the budgets were never reached");
        Assert.Equal(blocks, pool.FreeBlocks);
        Assert.Equal(0, kv.Count);
    }
}
