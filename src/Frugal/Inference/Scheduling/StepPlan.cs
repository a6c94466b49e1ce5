using Frugal.Inference.KvPaging;

namespace Frugal.Inference.Scheduling;

/// <summary>
/// Work for one sequence in one step: compute K/V for positions [Start, Start + Count) of its tokens and, when
/// <see cref="SamplesNext"/>, sample the token that follows from the logits of the last one. A speculative decode
/// (<see cref="Drafted"/> &gt; 0) holds the sequence's last token then that many drafted tokens, which are not yet
/// the sequence's: the step verifies them from the logits of every position.
/// </summary>
public readonly record struct ScheduledChunk(long SequenceId, int Start, int Count, bool SamplesNext, int Drafted = 0)
{
    public bool IsDecode => Count == 1 + Drafted && SamplesNext && Start > 0;
}

/// <summary>What one forward step runs. Produced by <see cref="Scheduler.Plan"/>, consumed by <see cref="Scheduler.Update"/>.</summary>
public sealed class StepPlan
{
    internal StepPlan(long step, IReadOnlyList<ScheduledChunk> chunks, IReadOnlyList<long> preempted, IReadOnlyList<KvBlockCopy> copies,
        IReadOnlyList<KvCompactionStep> compactions)
    {
        Compactions = compactions;
        Step = step;
        Chunks = chunks;
        Preempted = preempted;
        BlockCopies = copies;
        TotalTokens = chunks.Sum(c => c.Count);
    }

    public long Step { get; }

    /// <summary>Decodes first, then prefill chunks.</summary>
    public IReadOnlyList<ScheduledChunk> Chunks { get; }

    /// <summary>Sequences whose blocks were freed this step; they wait to be recomputed.</summary>
    public IReadOnlyList<long> Preempted { get; }

    /// <summary>Compactions to do first, in order (each one's copies, then its moves), before <see cref="BlockCopies"/>.</summary>
    public IReadOnlyList<KvCompactionStep> Compactions { get; }

    /// <summary>Copy-on-write block copies to do before the step's attention (after the compactions).</summary>
    public IReadOnlyList<KvBlockCopy> BlockCopies { get; }

    public int TotalTokens { get; }

    /// <summary>
    /// Samples of one prompt that fork a parent this step: when the parent's chunk (which computes its prompt's last
    /// token) is done, each child shares its blocks and samples its first token from the parent's logits row.
    /// </summary>
    public IReadOnlyList<ScheduledFork> Forks { get; init; } = [];

    public bool IsEmpty => Chunks.Count == 0;
}

/// <summary>
/// One sequence's context shift or eviction: copy <see cref="Copies"/> (shared blocks the moves write), then move slot
/// KeptSlots[i] to slot i over <see cref="BlockTable"/> (<c>IBatchedLanguageModel.CompactKv</c>). The blocks past the
/// kept positions are already back in the pool; a later operation of the same plan may reuse them, so operations run in order.
/// </summary>
public sealed record KvCompactionStep(long SequenceId, int HeldBefore, int[] KeptSlots, int[] BlockTable, IReadOnlyList<KvBlockCopy> Copies);

/// <summary>Children that take a fork of <paramref name="Parent"/>'s block table after this step's chunk of it.</summary>
public sealed record ScheduledFork(long Parent, long[] Children);

/// <summary>
/// The token the engine sampled for a chunk with <see cref="ScheduledChunk.SamplesNext"/>. A speculative decode gives
/// several, in order: the accepted drafted tokens, then the one that follows them.
/// </summary>
/// <param name="Stop">The token ends generation (EOS/EOT, or a stop string the caller matched).</param>
public readonly record struct SampledToken(long SequenceId, int Token, bool Stop = false);

/// <summary>What a step changed: tokens appended and sequences that finished (their blocks are already free).</summary>
public sealed record StepOutcome(IReadOnlyList<SampledToken> Appended, IReadOnlyList<(long SequenceId, FinishReason Reason)> Finished);
