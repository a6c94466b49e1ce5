using Frugal.Numerics.Attention;

namespace Frugal.Models;

/// <summary>
/// One sequence's part of a batched step: evaluate <see cref="Tokens"/> at positions Start .. Start + Tokens.Length - 1,
/// reading and writing K/V through <see cref="BlockTable"/>. Logits come back for its last token when
/// <see cref="WantLogits"/>, and for every one of its tokens when <see cref="AllLogits"/> (perplexity, logit dumps).
/// </summary>
public readonly record struct BatchSequence(ReadOnlyMemory<int> Tokens, int Start, IReadOnlyList<int> BlockTable, bool WantLogits, bool AllLogits = false)
{
    /// <summary>Logit rows this sequence asks for.</summary>
    public int LogitRows => AllLogits ? Tokens.Length : WantLogits ? 1 : 0;
}

/// <summary>A model that can advance several sequences in one step over a paged K/V store.</summary>
public interface IBatchedLanguageModel : ILanguageModel
{
    /// <summary>
    /// K/V memory for <paramref name="blocks"/> blocks of <paramref name="blockSize"/> positions, every layer, in
    /// <paramref name="types"/> (f16 by default); for KIVI types with <paramref name="residualSlots"/> f16 slots for
    /// blocks being filled (0: <see cref="PagedKvStore.DefaultResidualSlots"/>).
    /// </summary>
    PagedKvStore CreatePagedStore(int blocks, int blockSize, KvCacheTypes types = default, int residualSlots = 0);

    /// <summary>
    /// Runs one step over all <paramref name="batch"/> entries together: every weight matrix multiplies all of the
    /// step's tokens at once (weights are read once per step), attention reads each sequence's K/V in place through its
    /// block table. <paramref name="logits"/> receives the rows each sequence asks for (<see cref="BatchSequence.LogitRows"/>),
    /// [rows, vocab], in batch order.
    /// </summary>
    void ForwardBatch(IReadOnlyList<BatchSequence> batch, PagedKvStore store, Span<float> logits);

    /// <summary>
    /// The same step for one sequence, ending at the final norm instead of the output matrix: <paramref name="hidden"/>
    /// receives every token's normed last hidden state, [tokens, embedding length] (what llama.cpp pools into an
    /// embedding).
    /// </summary>
    void ForwardHidden(BatchSequence sequence, PagedKvStore store, Span<float> hidden);

    /// <summary>
    /// Compacts one sequence's K/V in place: slot <c>keptSlots[i]</c> (ascending) moves to slot i, its key re-rotated from
    /// RoPE position keptSlots[i] to position i, its value moved as is; slots from keptSlots.Length on are left over
    /// (the caller gives their blocks back). Every block of <paramref name="blockTable"/> that a move writes must belong
    /// to this sequence alone (copy a shared block first).
    /// </summary>
    void CompactKv(PagedKvStore store, IReadOnlyList<int> blockTable, int count, ReadOnlySpan<int> keptSlots);
}
