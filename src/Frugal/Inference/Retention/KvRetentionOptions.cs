namespace Frugal.Inference.Retention;

/// <summary>Which positions a sequence over its KV budget keeps.</summary>
public enum KvEvictionPolicy
{
    /// <summary>The most recent <c>budget</c> positions (a sliding window).</summary>
    Window,

    /// <summary>StreamingLLM (Xiao et al. 2023): the first <c>sinks</c> positions ("attention sinks") and the most recent ones.</summary>
    Sinks,

    /// <summary>
    /// KeyDiff (Park et al. 2025): the sinks and the most recent block always; among the rest, the positions whose keys
    /// are least similar to the sequence's mean key.
    /// </summary>
    KeyDiff,
}

/// <summary>
/// What a sequence does when its KV would pass its room: llama.cpp's context shift (keep the first <see cref="Keep"/>
/// positions, drop half of the rest), or eviction under a per-sequence budget of <see cref="Budget"/> positions. With
/// neither, a sequence ends at the context (finish reason length). Kept positions are renumbered 0..m-1 (keys
/// re-rotated), as llama.cpp's context shift and StreamingLLM do.
/// </summary>
public sealed record KvRetentionOptions
{
    /// <summary>No shift, no budget: today's behaviour.</summary>
    public static KvRetentionOptions None { get; } = new();

    /// <summary>Names the command line and the server accept for <see cref="Policy"/>.</summary>
    public static IReadOnlyList<string> PolicyNames { get; } = ["window", "sinks", "keydiff"];

    /// <summary>Shift the context when a sequence reaches its end (llama.cpp's <c>--context-shift</c>).</summary>
    public bool ContextShift { get; init; }

    /// <summary>
    /// Positions a context shift never drops, counted after BOS (llama.cpp's <c>--keep</c>; BOS, when the sequence
    /// starts with it, is kept on top, as llama.cpp does).
    /// </summary>
    public int Keep
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentException($"keep must be at least 0, got {value}", nameof(Keep));
    }

    /// <summary>Positions of KV one sequence keeps; null for no budget. Eviction starts one block past it.</summary>
    public int? Budget
    {
        get;
        init => field = value is null or >= 1 ? value : throw new ArgumentException($"the KV budget must be at least 1 position, got {value}", nameof(Budget));
    }

    public KvEvictionPolicy Policy { get; init; } = KvEvictionPolicy.Sinks;

    /// <summary>Leading positions the sinks and keydiff policies always keep.</summary>
    public int Sinks
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentException($"sinks must be at least 0, got {value}", nameof(Sinks));
    } = 4;

    /// <summary>Whether a generation may outlive the context (by shifting it or by evicting under a budget).</summary>
    public bool Unbounded => ContextShift || Budget is not null;

    /// <exception cref="ArgumentException">the budget does not fit the context, or leaves no room besides the sinks.</exception>
    public void Validate(int context)
    {
        if (Budget is not int budget) return;
        if (budget >= context)
            throw new ArgumentException($"the KV budget ({budget}) must be smaller than the context ({context})", nameof(Budget));
        if (Policy != KvEvictionPolicy.Window && Sinks >= budget)
            throw new ArgumentException($"the KV budget ({budget}) must exceed the sinks ({Sinks}) it always keeps", nameof(Budget));
    }

    /// <exception cref="ArgumentException">the name is none of <see cref="PolicyNames"/>; the message lists them.</exception>
    public static KvEvictionPolicy ParsePolicy(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "window" => KvEvictionPolicy.Window,
        "sinks" => KvEvictionPolicy.Sinks,
        "keydiff" => KvEvictionPolicy.KeyDiff,
        _ => throw new ArgumentException($"unknown KV eviction policy '{name}': expected one of {string.Join(", ", PolicyNames)}", nameof(Policy)),
    };

    public static string PolicyName(KvEvictionPolicy policy) => PolicyNames[(int)policy];

    public override string ToString() =>
        Budget is int b ? $"budget {b} ({PolicyName(Policy)}{(Policy == KvEvictionPolicy.Window ? "" : $", {Sinks} sinks")})"
        : ContextShift ? $"context shift (keep {Keep})" : "none";
}
