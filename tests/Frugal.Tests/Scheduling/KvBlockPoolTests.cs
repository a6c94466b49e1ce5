using Frugal.Inference.KvPaging;

namespace Frugal.Tests.Scheduling;

public class KvBlockPoolTests
{
    private static int[] Tokens(int count, int seed) => Enumerable.Range(0, count).Select(i => seed * 1000 + i).ToArray();

    [Fact]
    public void Freed_blocks_are_reused_least_recently_freed_first()
    {
        var pool = new KvBlockPool(4, blockSize: 16);
        var got = new List<int>();
        Assert.True(pool.TryAllocate(4, got));
        Assert.Equal([0, 1, 2, 3], got);
        Assert.Equal(0, pool.FreeBlocks);
        foreach (int b in new[] { 2, 0, 3, 1 }) pool.Release(b);
        var again = new List<int>();
        Assert.True(pool.TryAllocate(4, again));
        Assert.Equal([2, 0, 3, 1], again);
        pool.Validate();
    }

    [Fact]
    public void Allocation_is_all_or_nothing()
    {
        var pool = new KvBlockPool(3);
        var got = new List<int>();
        Assert.False(pool.TryAllocate(4, got));
        Assert.Empty(got);
        Assert.Equal(3, pool.FreeBlocks);
        Assert.Equal(0, pool.UsedBlocks);
    }

    [Fact]
    public void Releasing_more_often_than_retained_throws()
    {
        var pool = new KvBlockPool(2);
        var got = new List<int>();
        pool.TryAllocate(1, got);
        pool.Release(got[0]);
        Assert.Throws<InvalidOperationException>(() => pool.Release(got[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Retain(2));
    }

    [Fact]
    public void Only_computed_full_blocks_become_reusable()
    {
        var tables = new KvBlockTables(new KvBlockPool(8, 16));
        var prompt = Tokens(40, 1);
        Assert.True(tables.TryAllocate(1, 40));
        Assert.Equal(0, tables.FindCachedPrefix(prompt).Tokens); // scheduled, not computed yet
        tables.MarkComputed(1, prompt, 20);
        Assert.Equal(16, tables.FindCachedPrefix(prompt).Tokens);
        tables.MarkComputed(1, prompt, 40);
        var hit = tables.FindCachedPrefix(prompt);
        Assert.Equal(32, hit.Tokens);
        Assert.Equal(tables.BlockTable(1).Take(2), hit.Blocks);
        Assert.Equal(2, tables.Pool.CachedBlocks);
    }

    [Fact]
    public void The_last_prompt_token_is_always_left_to_compute()
    {
        var tables = new KvBlockTables(new KvBlockPool(8, 16));
        var prompt = Tokens(32, 2);
        tables.TryAllocate(1, 32);
        tables.MarkComputed(1, prompt, 32);
        // Both blocks are cached, but reusing the second would leave no token to produce logits from.
        Assert.Equal(16, tables.FindCachedPrefix(prompt).Tokens);
        Assert.Equal(32, tables.FindCachedPrefix([.. prompt, 7]).Tokens);
    }

    [Fact]
    public void A_shared_prefix_is_stored_once_and_counted_as_a_hit()
    {
        var tables = new KvBlockTables(new KvBlockPool(8, 16));
        var a = Tokens(40, 3);
        int[] b = [.. a.Take(32), 9, 9, 9];
        tables.TryAllocate(1, a.Length);
        tables.MarkComputed(1, a, a.Length);

        var hit = tables.FindCachedPrefix(b);
        Assert.Equal(32, hit.Tokens);
        int usedBefore = tables.Pool.UsedBlocks;
        Assert.True(tables.TryAllocate(2, b.Length - hit.Tokens, hit, b.Length));
        Assert.Equal(usedBefore + 1, tables.Pool.UsedBlocks); // only the tail block is new
        Assert.Equal(tables.BlockTable(1).Take(2), tables.BlockTable(2).Take(2));
        Assert.Equal(2, tables.Pool.RefCount(tables.BlockTable(1)[0]));
        Assert.Equal(32, tables.PrefixHitTokens);
        Assert.Equal(35, tables.PrefixQueriedTokens);
        Assert.Equal(1, tables.PrefixHits);
    }

    [Fact]
    public void Equal_blocks_after_different_prefixes_do_not_match()
    {
        var tables = new KvBlockTables(new KvBlockPool(8, 4));
        int[] a = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        int[] b = [0, 2, 3, 4, 5, 6, 7, 8, 9]; // second block equal, first differs
        tables.TryAllocate(1, a.Length);
        tables.MarkComputed(1, a, a.Length);
        Assert.Equal(8, tables.FindCachedPrefix(a).Tokens);
        Assert.Equal(0, tables.FindCachedPrefix(b).Tokens);
    }

    [Fact]
    public void Freed_cached_blocks_stay_reusable_until_allocation_evicts_them()
    {
        var tables = new KvBlockTables(new KvBlockPool(4, 4));
        int[] prompt = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        tables.TryAllocate(1, prompt.Length);
        tables.MarkComputed(1, prompt, prompt.Length);
        tables.Free(1);
        Assert.Equal(0, tables.Pool.UsedBlocks);
        Assert.Equal(8, tables.FindCachedPrefix(prompt).Tokens);

        // Blocks were released last-first; the free queue now starts with the untouched block 3, then the
        // partial block 2, then block 1 (tokens 5..8) and block 0 (tokens 1..4).
        Assert.True(tables.TryAllocate(2, 12)); // takes 3 blocks: 3, 2 and cached block 1
        Assert.Equal(1, tables.Pool.Evictions);
        Assert.Equal(4, tables.FindCachedPrefix(prompt).Tokens); // block 0 survives
        tables.Free(2);
        tables.Pool.Validate();
    }

    [Fact]
    public void A_forked_sequence_copies_its_shared_partial_block_before_writing()
    {
        var tables = new KvBlockTables(new KvBlockPool(8, 16));
        tables.TryAllocate(1, 20);           // block 0 full, block 1 holds 4 positions
        tables.Fork(1, 2);
        var shared = tables.BlockTable(1)[1];
        Assert.Equal(2, tables.Pool.RefCount(shared));
        Assert.Empty(tables.TakeCopies());

        Assert.True(tables.TryAllocate(2, 1));
        var copies = tables.TakeCopies();
        var copy = Assert.Single(copies);
        Assert.Equal(shared, copy.Source);
        Assert.Equal(tables.BlockTable(2)[1], copy.Destination);
        Assert.NotEqual(shared, copy.Destination);
        Assert.Equal(tables.BlockTable(1)[0], tables.BlockTable(2)[0]); // the full block stays shared
        Assert.Equal(1, tables.Pool.RefCount(shared));

        Assert.True(tables.TryAllocate(1, 1)); // now the only owner: writes in place
        Assert.Empty(tables.TakeCopies());
        Assert.Equal(shared, tables.BlockTable(1)[1]);
        tables.Free(1);
        tables.Free(2);
        Assert.Equal(0, tables.Pool.UsedBlocks);
        tables.Pool.Validate();
    }

    [Fact]
    public void Bad_sizes_are_rejected_with_the_parameter_named()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new KvBlockPool(0));
        Assert.Equal("totalBlocks", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new KvBlockPool(4, 0));
        Assert.Throws<KeyNotFoundException>(() => new KvBlockTables(new KvBlockPool(1)).BlockTable(5));
    }
}
