namespace Frugal.Models;

/// <summary>
/// One sequence's part of a batched step: evaluate <see cref="Tokens"/> at positions Start .. Start + Tokens.Length - 1,
/// reading and writing K/V through <see cref="BlockTable"/>; when <see cref="WantLogits"/>, the logits of its last
/// token are returned.
/// </summary>
public readonly record struct BatchSequence(ReadOnlyMemory<int> Tokens, int Start, IReadOnlyList<int> BlockTable, bool WantLogits);

/// <summary>A model that can advance several sequences in one step over a paged K/V store.</summary>
public interface IBatchedLanguageModel : ILanguageModel
{
    /// <summary>K/V memory for <paramref name="blocks"/> blocks of <paramref name="blockSize"/> positions, every layer.</summary>
    PagedKvStore CreatePagedStore(int blocks, int blockSize);

    /// <summary>
    /// Runs one step over all <paramref name="batch"/> entries together: every weight matrix multiplies all of the
    /// step's tokens at once (weights are read once per step), attention runs per sequence through its block table.
    /// <paramref name="logits"/> receives [sequences with WantLogits, vocab] rows in batch order.
    /// </summary>
    void ForwardBatch(IReadOnlyList<BatchSequence> batch, PagedKvStore store, Span<float> logits);
}
