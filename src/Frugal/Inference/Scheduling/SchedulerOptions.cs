namespace Frugal.Inference.Scheduling;

/// <summary>Limits one scheduling step respects.</summary>
public sealed record SchedulerOptions
{
    /// <summary>Tokens one forward step may process, decodes and prefill chunks together (Sarathi's token budget).</summary>
    public int MaxTokensPerStep { get; init; } = 512;

    /// <summary>Sequences that may hold KV blocks and advance at once.</summary>
    public int MaxRunningSequences { get; init; } = 16;

    /// <summary>Longest prefill chunk one sequence gets per step, so one long prompt cannot stall the decodes.</summary>
    public int MaxPrefillChunk { get; init; } = int.MaxValue;

    internal void Validate()
    {
        if (MaxTokensPerStep < 1) throw new ArgumentOutOfRangeException(nameof(MaxTokensPerStep), MaxTokensPerStep, "a step must be allowed at least one token");
        if (MaxRunningSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxRunningSequences), MaxRunningSequences, "at least one sequence must be allowed to run");
        if (MaxPrefillChunk < 1) throw new ArgumentOutOfRangeException(nameof(MaxPrefillChunk), MaxPrefillChunk, "prefill chunks hold at least one token");
    }
}
