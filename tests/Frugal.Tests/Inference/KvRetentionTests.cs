using Frugal.Inference.Retention;

namespace Frugal.Tests.Inference;

/// <summary>Which slots each policy keeps, on constructed cases, and the checks of the options.</summary>
public class KvRetentionTests
{
    [Fact]
    public void Window_keeps_the_most_recent_budget()
    {
        var r = new KvRetention(new KvRetentionOptions { Budget = 8, Policy = KvEvictionPolicy.Window }, context: 100, blockSize: 4, startsWithBos: true);
        Assert.Equal(12, r.Limit);
        Assert.Equal([4, 5, 6, 7, 8, 9, 10, 11], r.KeptSlots(12));
    }

    [Fact]
    public void Sinks_keep_the_first_s_and_the_most_recent()
    {
        var r = new KvRetention(new KvRetentionOptions { Budget = 8, Sinks = 3 }, context: 100, blockSize: 4, startsWithBos: true);
        Assert.Equal([0, 1, 2, 7, 8, 9, 10, 11], r.KeptSlots(12));
    }

    [Fact]
    public void KeyDiff_keeps_sinks_the_recent_block_and_the_keys_least_like_the_mean()
    {
        var r = new KvRetention(new KvRetentionOptions { Budget = 10, Sinks = 2, Policy = KvEvictionPolicy.KeyDiff }, context: 100, blockSize: 4, startsWithBos: false);
        Assert.Equal(14, r.Limit);
        //                slot:  0    1    2    3    4     5    6    7    8    9    10   11   12   13
        float[] scores = [0.9f, 0.9f, 0.1f, 0.8f, 0.95f, 0.2f, 0.9f, 0.3f, 0.3f, 0.7f, 0f, 0f, 0f, 0f];
        // Sinks 0, 1; recent block 10..13; 4 of slots 2..9 by lowest similarity: 2 (0.1), 5 (0.2), 8 and 7 (0.3; tie to the later first).
        Assert.Equal([0, 1, 2, 5, 7, 8, 10, 11, 12, 13], r.KeptSlots(14, () => scores));
        float[] tie = [0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, 0];
        Assert.Equal([0, 1, 6, 7, 8, 9, 10, 11, 12, 13], r.KeptSlots(14, () => tie));
        Assert.Throws<InvalidOperationException>(() => r.KeptSlots(14));
    }

    [Fact]
    public void A_context_shift_keeps_n_keep_plus_bos_and_drops_half_of_the_rest()
    {
        var r = new KvRetention(new KvRetentionOptions { ContextShift = true, Keep = 3 }, context: 20, blockSize: 16, startsWithBos: true);
        Assert.Equal(20, r.Limit);
        Assert.Equal(4, r.ShiftKeep);
        // n_left = 20 - 4 = 16, n_discard = 8: slots 4..11 go.
        Assert.Equal([0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19], r.KeptSlots(20));
        var noBos = new KvRetention(new KvRetentionOptions { ContextShift = true }, context: 20, blockSize: 16, startsWithBos: false);
        Assert.Equal([.. Enumerable.Range(10, 10)], noBos.KeptSlots(20));
        // As llama.cpp: n_keep is at most the context - 4.
        var most = new KvRetention(new KvRetentionOptions { ContextShift = true, Keep = 50 }, context: 20, blockSize: 16, startsWithBos: true);
        Assert.Equal(16, most.ShiftKeep);
        Assert.Equal([.. Enumerable.Range(0, 16), 18, 19], most.KeptSlots(20));
    }

    [Fact]
    public void Without_shift_or_budget_a_full_sequence_cannot_make_room()
    {
        var r = new KvRetention(KvRetentionOptions.None, context: 20, blockSize: 16, startsWithBos: true);
        Assert.False(r.CanMakeRoom);
        Assert.Equal(20, r.Limit);
        Assert.Throws<InvalidOperationException>(() => r.KeptSlots(20));
    }

    [Fact]
    public void Bad_settings_name_what_is_wrong()
    {
        Assert.Equal("the KV budget (64) must be smaller than the context (64) (Parameter 'Budget')",
            Assert.Throws<ArgumentException>(() => new KvRetention(new KvRetentionOptions { Budget = 64 }, 64, 16, true)).Message);
        Assert.Equal("the KV budget (4) must exceed the sinks (4) it always keeps (Parameter 'Budget')",
            Assert.Throws<ArgumentException>(() => new KvRetention(new KvRetentionOptions { Budget = 4 }, 64, 16, true)).Message);
        Assert.Equal("Budget", Assert.Throws<ArgumentException>(() => new KvRetentionOptions { Budget = 0 }).ParamName);
        Assert.Equal("Keep", Assert.Throws<ArgumentException>(() => new KvRetentionOptions { Keep = -1 }).ParamName);
        Assert.Equal(KvEvictionPolicy.KeyDiff, KvRetentionOptions.ParsePolicy("KeyDiff"));
        Assert.StartsWith("unknown KV eviction policy 'lru': expected one of window, sinks, keydiff",
            Assert.Throws<ArgumentException>(() => KvRetentionOptions.ParsePolicy("lru")).Message);
    }
}
