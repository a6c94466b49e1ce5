namespace Frugal.Evaluation;

/// <summary>
/// The held-out evaluation sets. Their seeds are disjoint from the training seed stream and every item is on the
/// held-out side of <see cref="HeldOutSplit"/>, which the training corpus never emits.
/// </summary>
public static class HeldOutSets
{
    public const ulong DefaultSeed = 20261126;

    /// <param name="accept">optional filter, e.g. the trainer's check that a recall key is 400+ tokens back.</param>
    /// <param name="recallFillerChars">recall filler length (how far back the key is); the default is the measured setting.</param>
    public static IReadOnlyList<EvalItem> Items(EvalTask task, int count, ulong seed = DefaultSeed, Func<EvalItem, bool>? accept = null,
        int recallFillerChars = RecallDefaults.FillerChars) =>
        Draw(task, count, SplitMix64.Derive(seed, "held-out-" + task), heldOut: true, accept, recallFillerChars);

    /// <summary>
    /// Items in the held-out sets' form (3-digit additions, the asked recall fact first) but from the training side
    /// of <see cref="HeldOutSplit"/>: a validation set the trainer may look at (to keep its best checkpoint) without
    /// ever seeing the held-out sets. Their seed stream ("validation-") is disjoint from the held-out one.
    /// </summary>
    public static IReadOnlyList<EvalItem> TrainingSideItems(EvalTask task, int count, ulong seed, Func<EvalItem, bool>? accept = null) =>
        Draw(task, count, SplitMix64.Derive(seed, "validation-" + task), heldOut: false, accept, RecallDefaults.FillerChars);

    /// <summary>
    /// The development split: items in the held-out form from the training side of <see cref="HeldOutSplit"/>, on
    /// their own seed stream ("development-", disjoint from the held-out and validation ones). Recipes (samples per
    /// prompt, the allocation mapping, early-stop thresholds) are chosen on it, never on <see cref="Items"/>.
    /// </summary>
    public static IReadOnlyList<EvalItem> DevelopmentItems(EvalTask task, int count, ulong seed = DefaultSeed, Func<EvalItem, bool>? accept = null) =>
        Draw(task, count, SplitMix64.Derive(seed, "development-" + task), heldOut: false, accept, RecallDefaults.FillerChars);

    private static IReadOnlyList<EvalItem> Draw(EvalTask task, int count, ulong streamSeed, bool heldOut, Func<EvalItem, bool>? accept, int recallFillerChars)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive");
        var rng = new SplitMix64(streamSeed);
        var items = new List<EvalItem>(count);
        int attempts = 0;
        while (items.Count < count)
        {
            if (++attempts > count * 100) throw new InvalidOperationException($"the {task} filter rejected nearly every item");
            var item = task switch
            {
                EvalTask.Arithmetic => ArithmeticTask.Draw(rng, heldOut, threeDigitAddition: true),
                EvalTask.Recall => RecallTask.Draw(rng, recallFillerChars, heldOut),
                EvalTask.Copy => CopyTask.Draw(rng, heldOut),
                EvalTask.CopyLong => CopyTask.Draw(rng, heldOut, CopyTask.LongMinItems, CopyTask.LongMaxItems),
                EvalTask.Chain => ChainTask.Draw(rng, heldOut),
                _ => throw new ArgumentOutOfRangeException(nameof(task), task, "unknown task"),
            };
            if (accept == null || accept(item)) items.Add(item);
        }
        return items;
    }

    /// <summary>Held-out stories for perplexity.</summary>
    public static IReadOnlyList<string> Stories(int count, ulong seed = DefaultSeed)
    {
        var rng = new SplitMix64(SplitMix64.Derive(seed, "held-out-stories"));
        var stories = new List<string>(count);
        while (stories.Count < count)
        {
            string story = StoryGrammar.Story(rng);
            if (HeldOutSplit.IsHeldOut(story)) stories.Add(story);
        }
        return stories;
    }

    /// <summary>
    /// True when a greedy continuation answers the item: the expected text, then its terminator (an empty terminator:
    /// the continuation ended with the end-of-sequence token right after the answer); for a worked item, a
    /// continuation that ended with end-of-sequence on the expected sum.
    /// </summary>
    public static bool IsCorrect(EvalItem item, string continuation, bool endedWithEos)
    {
        if (item.Scratchpad != null) return endedWithEos && ChainTask.FinalSum(continuation) == item.Expected;
        if (!continuation.StartsWith(item.Expected, StringComparison.Ordinal)) return false;
        string rest = continuation[item.Expected.Length..];
        return item.Terminator.Length == 0 ? rest.Length == 0 && endedWithEos : rest.StartsWith(item.Terminator, StringComparison.Ordinal);
    }
}
