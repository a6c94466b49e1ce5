namespace Frugal.Evaluation;

/// <summary>
/// One held-out question: the model is given <see cref="Prompt"/> (after a BOS token) and its greedy continuation
/// must be <see cref="Expected"/> followed by <see cref="Terminator"/>; an empty terminator means the
/// end-of-sequence token must follow. Items with a <see cref="Scratchpad"/> are worked: the continuation may take
/// any path, and its answer is the sum after its last "=" (<see cref="ChainTask.FinalSum"/>); the scratchpad is one
/// worked continuation, which sizes the token budget.
/// </summary>
public sealed record EvalItem(string Prompt, string Expected, string Terminator = "\n", string? Scratchpad = null)
{
    /// <summary>The text a right continuation holds before end-of-sequence or its terminator (one path, for worked items).</summary>
    public string AnswerText => (Scratchpad ?? Expected) + Terminator;
}

/// <summary>The held-out task families that <c>frugal eval</c> measures.</summary>
public enum EvalTask
{
    Arithmetic,
    Recall,
    Copy,

    /// <summary>
    /// Copying lists of 11-14 items, longer than any list in training (3-10): length generalization. Its misses are
    /// systematic (samples agree on the same wrong list), so it does not show voting; <see cref="Chain"/> does.
    /// </summary>
    CopyLong,

    /// <summary>
    /// Chained addition of 5-7 two-digit numbers with a worked scratchpad in an order of the model's choosing
    /// (<see cref="ChainTask"/>): the family where sampled paths fail in different ways, so voting has something to find.
    /// </summary>
    Chain,
}
