using Frugal.Inference.Sampling;
using Frugal.Inference.Speculation;

namespace Frugal.Tests.Speculation;

/// <summary>
/// What a draft-model probe costs after drafting was off: the controller waits twice as long after each probe that
/// leaves it off, and the drafter catches up on at most <see cref="DraftModelDrafter.CatchUpLimit"/> missed tokens.
/// </summary>
[Collection(BuiltInPair.Collection)]
public sealed class DraftProbeCostTests
{
    [Fact]
    public void A_backing_off_controller_doubles_the_wait_after_each_probe_that_leaves_drafting_off()
    {
        var controller = new SpeculationController(maxDraft: 4, costPerToken: 0.35, backOff: true);
        for (int k = 1; k <= 4; k++) controller.ObserveCost(k, 5.0);   // every length far dearer than it yields
        var probes = new List<int>();
        for (int step = 1; step <= 16 + 32 + 64 + 128 + 256 + 256; step++)
            if (controller.NextLength() > 0) probes.Add(step);
        Assert.Equal([16, 48, 112, 240, 496, 752], probes);

        var steady = new SpeculationController(maxDraft: 4, costPerToken: 0.35);
        for (int k = 1; k <= 4; k++) steady.ObserveCost(k, 5.0);
        int count = 0;
        for (int step = 1; step <= 160; step++) if (steady.NextLength() > 0) count++;
        Assert.Equal(10, count);   // lookup's probe is free: every 16 steps
    }

    [Fact]
    public void After_a_long_pause_the_drafter_drafts_from_the_last_tokens_only()
    {
        var tokens = BuiltInPair.Tokenizer.Encode("Once upon a time, there was a little cat named Tom. Tom liked to play in the garden with his red ball. One day, Tom saw a big dog near the tree. The dog was sad because");
        Assert.True(tokens.Length > DraftModelDrafter.CatchUpLimit + 12, $"{tokens.Length} tokens");
        var greedy = new SamplingOptions { Temperature = 0 };
        int context = BuiltInPair.Draft.Config.ContextLength;

        // Drafted once early, then silent while many tokens went by: the probe drafts what a drafter that only ever
        // saw the last CatchUpLimit tokens drafts.
        var paused = new DraftModelDrafter(BuiltInPair.Draft, greedy, context);
        var early = new int[2];
        Assert.Equal(2, paused.Draft(tokens.AsSpan(0, 8), early, []));
        var afterPause = new int[4];
        Assert.Equal(4, paused.Draft(tokens, afterPause, []));
        var windowOnly = new int[4];
        new DraftModelDrafter(BuiltInPair.Draft, greedy, context).Draft(tokens.AsSpan(tokens.Length - DraftModelDrafter.CatchUpLimit), windowOnly, []);
        Assert.Equal(windowOnly, afterPause);

        // A short gap is fed in full: the same draft as a drafter that saw everything.
        var steady = new DraftModelDrafter(BuiltInPair.Draft, greedy, context);
        var first = new int[2];
        steady.Draft(tokens.AsSpan(0, tokens.Length - 6), first, []);
        var next = new int[4];
        steady.Draft(tokens, next, []);
        var full = new int[4];
        new DraftModelDrafter(BuiltInPair.Draft, greedy, context).Draft(tokens, full, []);
        Assert.Equal(full, next);
    }
}
