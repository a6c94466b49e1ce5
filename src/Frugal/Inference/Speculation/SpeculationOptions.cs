using Frugal.Models;

namespace Frugal.Inference.Speculation;

/// <summary>Where drafted tokens come from (<c>--spec</c>).</summary>
public enum SpeculationMode
{
    /// <summary>No speculation: one token per sequence per step.</summary>
    Off,

    /// <summary>A smaller draft model proposes the next tokens.</summary>
    Draft,

    /// <summary>Prompt lookup: the tokens that followed the latest earlier occurrence of the last n-gram (prompt and output so far).</summary>
    Lookup,

    /// <summary>The controller picks per step: prompt lookup when it finds a match, else the draft model when there is one.</summary>
    Auto,
}

/// <summary>
/// Speculative decoding settings of an engine or a generation. Output is exact whatever they say: greedy output is
/// token for token the non-speculative greedy output, and sampled output follows the target distribution.
/// </summary>
public sealed record SpeculationOptions
{
    /// <summary>No speculation.</summary>
    public static SpeculationOptions Off { get; } = new();

    public SpeculationMode Mode { get; init; } = SpeculationMode.Off;

    /// <summary>
    /// The draft model for <see cref="SpeculationMode.Draft"/> and <see cref="SpeculationMode.Auto"/>: same vocabulary as
    /// the main model. The caller owns it; it is used from one thread at a time (the engine loop or the generator).
    /// </summary>
    public ILanguageModel? DraftModel { get; init; }

    /// <summary>Most tokens drafted per step (<c>--draft-max</c>); the controller drafts fewer when acceptance is low.</summary>
    public int DraftMax
    {
        get;
        init => field = value is >= 1 and <= 64 ? value : throw new ArgumentOutOfRangeException(nameof(DraftMax), value, "the draft length must be within [1, 64]");
    } = 8;

    /// <summary>
    /// Other sequences in a step from which a sequence stops drafting: with that many rows the step already reads
    /// every weight once for many tokens, so verified drafts would add compute without saving weight reads.
    /// </summary>
    public int CrowdedStep
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(CrowdedStep), value, "must be at least 1");
    } = 2;

    /// <summary>
    /// Let the measured time of plain and drafting steps turn drafting off where it is slower on this machine (on by
    /// default). Off, only the acceptance rate and the crowding decide, which makes the decisions independent of the
    /// clock (tests).
    /// </summary>
    public bool AdaptToClock { get; init; } = true;

    public bool Enabled => Mode != SpeculationMode.Off;

    /// <exception cref="ArgumentException">the mode needs a draft model and has none, or its vocabulary differs from the main model's.</exception>
    public void Validate(ModelConfig main)
    {
        if (Mode == SpeculationMode.Draft && DraftModel is null)
            throw new ArgumentException("speculation mode 'draft' needs a draft model (--draft FILE)", nameof(DraftModel));
        if (DraftModel is { } d && d.Config.VocabSize != main.VocabSize)
            throw new ArgumentException($"the draft model's vocabulary has {d.Config.VocabSize} tokens but the main model's has {main.VocabSize}: they must share the tokenizer", nameof(DraftModel));
    }
}

/// <summary>Drafted tokens and how many of them the main model accepted.</summary>
public readonly record struct SpeculationCounters(long Drafted, long Accepted)
{
    public double AcceptanceRate => Drafted > 0 ? (double)Accepted / Drafted : 0;

    public static SpeculationCounters operator +(SpeculationCounters a, SpeculationCounters b) => new(a.Drafted + b.Drafted, a.Accepted + b.Accepted);
}
