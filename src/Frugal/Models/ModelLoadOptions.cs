using Frugal.Models.Residency;

namespace Frugal.Models;

/// <summary>How a model's weights are held in memory when it is loaded.</summary>
public sealed record ModelLoadOptions
{
    public static ModelLoadOptions Default { get; } = new();

    /// <summary>
    /// Bytes of weights the process keeps resident at most (<c>--mem-budget</c>); the rest are streamed from the file
    /// as the forward reaches them (<see cref="WeightResidency"/> says which). Null: every weight stays mapped.
    /// The KV cache, scratch buffers and the runtime are outside this budget.
    /// </summary>
    public long? MemoryBudget
    {
        get;
        init => field = value is null or > 0 ? value : throw new ArgumentOutOfRangeException(nameof(MemoryBudget), value, "the memory budget must be positive");
    }

    /// <summary>
    /// Context per sequence the model will run with (<c>--ctx</c>). Only LongRoPE models (Phi-3.5/4-mini) look at it: as
    /// llama.cpp's n_ctx does, it picks their long frequency factors when it exceeds the original context, the short ones
    /// otherwise. Null: the model's own context_length (what llama.cpp uses when n_ctx is 0).
    /// </summary>
    public int? ContextLength
    {
        get;
        init => field = value is null or > 0 ? value : throw new ArgumentOutOfRangeException(nameof(ContextLength), value, "the context length must be positive");
    }

    /// <summary>Streamed units read ahead of the one being computed (<c>--read-ahead</c>); each takes a buffer.</summary>
    public int ReadAhead
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(ReadAhead), value, "read-ahead must be at least 1 unit");
    } = 1;
}
