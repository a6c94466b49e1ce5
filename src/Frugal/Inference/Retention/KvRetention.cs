namespace Frugal.Inference.Retention;

/// <summary>
/// The one rule that decides how much KV a sequence may hold and, when it is full, which of its positions stay: used
/// by the single-sequence path (<see cref="BoundedSequence"/>: run, eval, perplexity, bench) and by the scheduler
/// (chat, serve). Pure: the data moves elsewhere (<c>IBatchedLanguageModel.CompactKv</c>).
/// </summary>
public sealed class KvRetention
{
    /// <param name="options">shift or budget settings (validated against <paramref name="context"/>).</param>
    /// <param name="context">positions the model may see.</param>
    /// <param name="blockSize">
    /// positions of one KV block: a budgeted sequence evicts once it holds budget + one block, down to the budget, so
    /// eviction runs once per block, not once per token.
    /// </param>
    /// <param name="startsWithBos">the sequence's first token is BOS, which a context shift keeps on top of <c>Keep</c>.</param>
    public KvRetention(KvRetentionOptions options, int context, int blockSize, bool startsWithBos)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        options.Validate(context);
        Options = options;
        Context = context;
        BlockSize = blockSize;
        StartsWithBos = startsWithBos;
        Limit = options.Budget is int budget ? Math.Min(context, budget + blockSize) : context;
    }

    public KvRetentionOptions Options { get; }

    public int Context { get; }

    public int BlockSize { get; }

    public bool StartsWithBos { get; }

    /// <summary>Most positions the sequence holds at once.</summary>
    public int Limit { get; }

    /// <summary>Whether a full sequence can make room (shift or eviction) instead of ending.</summary>
    public bool CanMakeRoom => Options.Unbounded;

    /// <summary>Whether the policy needs key scores (<see cref="KeptSlots"/>'s <c>keyScores</c>).</summary>
    public bool NeedsKeyScores => Options.Budget is not null && Options.Policy == KvEvictionPolicy.KeyDiff;

    /// <summary>
    /// The slots (ascending) a sequence holding <paramref name="held"/> positions keeps when it must make room.
    /// <paramref name="keyScores"/> gives KeyDiff's score of every held slot (see <see cref="NeedsKeyScores"/>).
    /// </summary>
    /// <exception cref="InvalidOperationException">neither a shift nor a budget is set, or a shift cannot free anything.</exception>
    public int[] KeptSlots(int held, Func<float[]>? keyScores = null)
    {
        if (Options.Budget is int budget)
        {
            if (held <= budget) throw new InvalidOperationException($"a sequence of {held} positions is within its budget of {budget}");
            return Options.Policy switch
            {
                KvEvictionPolicy.Window => Window(held, budget),
                KvEvictionPolicy.Sinks => Sinks(held, budget, Options.Sinks),
                _ => KeyDiff(held, budget, Options.Sinks, Math.Min(BlockSize, budget - Options.Sinks),
                    keyScores?.Invoke() ?? throw new InvalidOperationException("the keydiff policy needs key scores")),
            };
        }
        if (Options.ContextShift) return Shift(held, ShiftKeep);
        throw new InvalidOperationException($"the sequence holds {held} positions of a context of {Context} and may neither shift nor evict");
    }

    /// <summary>Positions a context shift keeps at the head: llama.cpp's n_keep (+1 for BOS), at most the context − 4.</summary>
    public int ShiftKeep => Math.Max(0, Math.Min(Options.Keep + (StartsWithBos ? 1 : 0), Context - 4));

    /// <summary>llama.cpp's context shift: keep [0, keep), drop the next (held − keep) / 2, keep the rest.</summary>
    public static int[] Shift(int held, int keep)
    {
        int discard = (held - keep) / 2;
        if (discard <= 0) throw new InvalidOperationException($"a context shift of {held} positions keeping {keep} frees nothing");
        return [.. Enumerable.Range(0, keep), .. Enumerable.Range(keep + discard, held - keep - discard)];
    }

    /// <summary>The most recent <paramref name="budget"/> slots.</summary>
    public static int[] Window(int held, int budget) => [.. Enumerable.Range(held - budget, budget)];

    /// <summary>StreamingLLM: the first <paramref name="sinks"/> slots and the most recent budget − sinks.</summary>
    public static int[] Sinks(int held, int budget, int sinks) =>
        [.. Enumerable.Range(0, sinks), .. Enumerable.Range(held - (budget - sinks), budget - sinks)];

    /// <summary>
    /// KeyDiff: the first <paramref name="sinks"/> and the last <paramref name="recent"/> slots always; of the slots
    /// between, the budget − sinks − recent with the lowest <paramref name="scores"/> (cosine similarity to the mean key:
    /// the most distinct keys), ties to the later slot.
    /// </summary>
    public static int[] KeyDiff(int held, int budget, int sinks, int recent, ReadOnlySpan<float> scores)
    {
        if (scores.Length < held) throw new ArgumentException($"keydiff needs a score for each of {held} slots, got {scores.Length}", nameof(scores));
        int middle = held - sinks - recent, chosen = budget - sinks - recent;
        var score = scores[..held].ToArray();
        var survivors = Enumerable.Range(sinks, middle).OrderBy(s => score[s]).ThenByDescending(s => s).Take(chosen).Order();
        var kept = new List<int>(budget);
        kept.AddRange(Enumerable.Range(0, sinks));
        kept.AddRange(survivors);
        kept.AddRange(Enumerable.Range(held - recent, recent));
        return [.. kept];
    }
}
