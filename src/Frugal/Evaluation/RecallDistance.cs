namespace Frugal.Evaluation;

/// <summary>
/// Which held-out recall items measure long-range recall for a given tokenizer and context: the asked fact (the
/// prompt's first sentence, see <see cref="RecallTask.Draw"/>) must lie 400+ tokens before the end of the prompt,
/// and the whole item must fit in the context. The trainer's <c>eval</c> and <c>frugal eval</c> both filter with
/// this, so they score the same items.
/// </summary>
public static class RecallDistance
{
    /// <summary>How far back (in tokens) the key must be.</summary>
    public const int MinKeyDistance = 400;

    /// <summary>Context positions kept free after the prompt for the answer, its terminator and EOS.</summary>
    public const int AnswerRoom = 16;

    /// <summary>
    /// Tokens between the end of the asked fact and the end of the prompt. <paramref name="countTokens"/> counts
    /// the tokens of a text without BOS (BOS adds one to both ends, so it cancels).
    /// </summary>
    public static int KeyDistance(EvalItem item, Func<string, int> countTokens)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(countTokens);
        int factEnd = item.Prompt.IndexOf('.', StringComparison.Ordinal);
        if (factEnd < 0) throw new ArgumentException("a recall prompt opens with the asked fact, a sentence ending in '.'", nameof(item));
        return countTokens(item.Prompt) - countTokens(item.Prompt[..(factEnd + 1)]);
    }

    /// <summary>The filter for <see cref="HeldOutSets.Items"/>: key 400+ tokens back, BOS + prompt + answer room within <paramref name="contextLength"/>.</summary>
    public static Func<EvalItem, bool> Filter(Func<string, int> countTokens, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(countTokens);
        return item =>
        {
            int total = 1 + countTokens(item.Prompt); // BOS + prompt
            return KeyDistance(item, countTokens) >= MinKeyDistance && total + AnswerRoom <= contextLength;
        };
    }
}
