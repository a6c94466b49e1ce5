using Frugal.Inference.KvPaging;
using Frugal.Inference.Scheduling;

namespace Frugal.Tests.Speculation;

public class SpeculativeSchedulingTests
{
    [Fact]
    public void A_draft_is_verified_then_its_rejected_positions_and_their_blocks_go_back()
    {
        var kv = new KvBlockTables(new KvBlockPool(8, 4));
        var s = new Scheduler(kv, new SchedulerOptions());
        s.Add(1, [1, 2, 3], 20);
        var p = s.Plan();
        s.Update(p, [new SampledToken(1, 4)]);                  // prompt 1 2 3, generated 4: 4 tokens, 3 computed
        p = s.Plan(new Dictionary<long, int> { [1] = 6 });       // verify 4 + six drafts: positions 3..9, 3 blocks
        var chunk = Assert.Single(p.Chunks);
        Assert.Equal((3, 7, 6), (chunk.Start, chunk.Count, chunk.Drafted));
        Assert.Equal(3, kv.BlockTable(1).Count);
        // Two drafts accepted (5, 6), then 9 instead of the third.
        s.Update(p, [new SampledToken(1, 5), new SampledToken(1, 6), new SampledToken(1, 9)]);
        var seq = s.Find(1)!;
        Assert.Equal([1, 2, 3, 4, 5, 6, 9], seq.Tokens);
        Assert.Equal(6, seq.ComputedTokens);
        Assert.Equal(6, kv.Slots(1));
        Assert.Equal(2, kv.BlockTable(1).Count);                 // the third block went back
        Assert.Equal(6, kv.Pool.FreeBlocks);
    }

    [Fact]
    public void Drafts_never_preempt_another_sequence_and_respect_the_token_limit()
    {
        var kv = new KvBlockTables(new KvBlockPool(2, 4));
        var s = new Scheduler(kv, new SchedulerOptions());
        s.Add(1, [1, 2, 3], 5);
        s.Add(2, [7, 8, 9], 5);
        var p = s.Plan();
        s.Update(p, [new SampledToken(1, 4), new SampledToken(2, 4)]);
        // Each holds one block of 4 with one free slot; a draft of 3 would need a block neither may take from the other.
        p = s.Plan(new Dictionary<long, int> { [1] = 3 });
        Assert.Empty(p.Preempted);
        Assert.All(p.Chunks, c => Assert.Equal(0, c.Drafted));
        s.Update(p, [new SampledToken(1, 5), new SampledToken(2, 5)]);

        var kv2 = new KvBlockTables(new KvBlockPool(8, 4));
        var s2 = new Scheduler(kv2, new SchedulerOptions());
        s2.Add(1, [1, 2, 3], 3);
        s2.Update(s2.Plan(), [new SampledToken(1, 4)]);
        // Two tokens left to generate: at most one draft (the token after it is the last one).
        var chunk = Assert.Single(s2.Plan(new Dictionary<long, int> { [1] = 8 }).Chunks);
        Assert.Equal(1, chunk.Drafted);
    }
}
