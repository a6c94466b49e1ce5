using Frugal.Numerics.Attention;

namespace Frugal.Planning;

/// <summary>What a run would be asked to do: the settings <c>frugal plan</c> predicts memory and speed for.</summary>
public sealed record PlanSettings
{
    /// <summary>RAM for weights (<c>--mem-budget</c>); null: every weight resident.</summary>
    public long? MemoryBudget { get; init; }

    /// <summary>Positions per sequence; null: the model's context, at most <see cref="DefaultContext"/> (as <c>serve</c>).</summary>
    public int? ContextLength { get; init; }

    /// <summary>Sequences held at once (<c>serve --parallel</c>); the KV pool holds this many contexts.</summary>
    public int Parallel { get; init; } = 1;

    public KvCacheTypes CacheTypes { get; init; } = KvCacheTypes.Default;

    /// <summary>Tokens of one prefill batch the prefill rate is predicted for (<c>bench -p</c>).</summary>
    public int PromptTokens { get; init; } = 128;

    /// <summary>Layers the streaming reader keeps in flight ahead of the forward (<see cref="Models.Residency.WeightResidency"/>).</summary>
    public int ReadAhead { get; init; } = 1;

    public const int DefaultContext = 4096;

    /// <summary>The context the plan sizes the KV pool for.</summary>
    public int ContextFor(int modelContext) => Math.Min(ContextLength ?? DefaultContext, modelContext);

    /// <exception cref="ArgumentException">a count below 1 or a budget below 1 byte; the message names the option.</exception>
    public void Validate()
    {
        if (MemoryBudget is <= 0) throw new ArgumentException("--mem-budget must be positive");
        if (ContextLength is <= 0) throw new ArgumentException("--ctx: expected at least 1 position");
        if (Parallel < 1) throw new ArgumentException("--parallel: expected at least 1 sequence");
        if (PromptTokens < 1) throw new ArgumentException("-p/--n-prompt: expected at least 1 token");
    }
}
