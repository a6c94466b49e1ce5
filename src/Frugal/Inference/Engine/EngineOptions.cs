using Frugal.Inference.Retention;
using Frugal.Numerics.Attention;

namespace Frugal.Inference.Engine;

/// <summary>How much an <see cref="InferenceEngine"/> may hold and do at once.</summary>
public sealed record EngineOptions
{
    /// <summary>Positions one sequence may reach (prompt + generated); null uses the model's context length.</summary>
    public int? ContextLength { get; init; }

    private readonly int? _blockSize;

    /// <summary>
    /// Tokens per KV block: by default 16 (one attention tile), or 32 when K or V is a KIVI type, whose keys are
    /// quantized per channel over a block (<see cref="KvElementTypes.DefaultBlockSize"/>).
    /// </summary>
    public int BlockSize { get => _blockSize ?? KvElementTypes.DefaultBlockSize(KvCacheTypes); init => _blockSize = value; }

    /// <summary>KV blocks in the pool (all sequences together); null sizes it for MaxRunningSequences full contexts.</summary>
    public int? KvBlocks { get; init; }

    /// <summary>
    /// Element types of the pool's K and V (llama.cpp's <c>-ctk/-ctv</c>); f16/f16 by default. The pool holds
    /// <see cref="KvBlocks"/> blocks whatever the types, so its bytes (<see cref="InferenceEngine.KvBytes"/>) follow them.
    /// </summary>
    public KvCacheTypes KvCacheTypes { get; init; }

    /// <summary>
    /// Context shift or a per-sequence KV budget for every request that sets none of its own. With a budget, the pool
    /// (when <see cref="KvBlocks"/> is null) holds MaxRunningSequences budgets, not full contexts.
    /// </summary>
    public KvRetentionOptions KvRetention
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(KvRetention));
    } = KvRetentionOptions.None;

    /// <summary>Sequences advanced together in one step.</summary>
    public int MaxRunningSequences { get; init; } = 8;

    /// <summary>Tokens one step may process, decodes and prefill chunks together.</summary>
    public int MaxTokensPerStep { get; init; } = 256;

    /// <summary>Requests that may wait for a place in the running set; beyond it, Submit refuses.</summary>
    public int MaxQueuedRequests { get; init; } = 64;

    /// <summary>
    /// Speculative decoding for every sequence (draft model, prompt lookup); off by default. A sequence with a grammar,
    /// or an engine with KIVI KV types, decodes plainly.
    /// </summary>
    public Speculation.SpeculationOptions Speculation
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(Speculation));
    } = Inference.Speculation.SpeculationOptions.Off;

    internal void Validate()
    {
        if (ContextLength is <= 0) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "the context must hold at least one position");
        if (BlockSize < 1) throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, "a block holds at least one position");
        if (KvBlocks is <= 0) throw new ArgumentOutOfRangeException(nameof(KvBlocks), KvBlocks, "the pool needs at least one block");
        if (MaxRunningSequences < 1) throw new ArgumentOutOfRangeException(nameof(MaxRunningSequences), MaxRunningSequences, "at least one sequence must run");
        if (MaxTokensPerStep < 1) throw new ArgumentOutOfRangeException(nameof(MaxTokensPerStep), MaxTokensPerStep, "a step processes at least one token");
        if (MaxQueuedRequests < 0) throw new ArgumentOutOfRangeException(nameof(MaxQueuedRequests), MaxQueuedRequests, "the queue length cannot be negative");
    }
}
