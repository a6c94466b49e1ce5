namespace Frugal.Evaluation;

/// <summary>
/// One held-out question: the model is given <see cref="Prompt"/> (after a BOS token) and its greedy continuation
/// must be <see cref="Expected"/> followed by <see cref="Terminator"/>; an empty terminator means the
/// end-of-sequence token must follow.
/// </summary>
public sealed record EvalItem(string Prompt, string Expected, string Terminator = "\n");

/// <summary>The held-out task families that <c>frugal eval</c> measures.</summary>
public enum EvalTask
{
    Arithmetic,
    Recall,
    Copy,

    /// <summary>
    /// Copying lists of 11-14 items, longer than any list in training (3-10): the harder family where the built-in
    /// model's greedy accuracy sits between 20% and 80%, so repeated sampling and voting have room to show.
    /// </summary>
    CopyLong,
}
