namespace Frugal.Evaluation;

/// <summary>
/// Reads a sampled continuation's answer for each task family, so samples can be voted on: the text before the first
/// newline for recall and copying (their terminator), the whole text for arithmetic when generation ended on its
/// own (its terminator is end-of-generation), and for chained sums the sum after the scratchpad's last "=" when
/// generation ended on its own. An answer is right when it is exactly the item's expected text, which
/// is <see cref="HeldOutSets.IsCorrect"/>'s rule.
/// </summary>
public static class TaskAnswers
{
    /// <param name="endedWithStop">generation ended with end-of-generation, not at the token limit.</param>
    public static string? Extract(EvalTask task, string text, bool endedWithStop)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (task == EvalTask.Arithmetic) return endedWithStop ? text : null;
        if (task == EvalTask.Chain) return endedWithStop ? ChainTask.FinalSum(text) : null;
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? null : text[..newline];
    }

    public static bool IsCorrect(EvalItem item, string? answer) => answer is not null && answer == item.Expected;
}
