using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;
using Frugal.Numerics.Attention;

namespace Frugal.Inference.Generation;

/// <summary>What one generation does: how many tokens, how to sample them, and where to stop.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate; -1 generates until an end-of-generation token or a full context.</summary>
    public int MaxTokens
    {
        get;
        init => field = value >= -1 ? value : throw new ArgumentException($"MaxTokens must be >= -1 (-1 = until the context is full), got {value}", nameof(MaxTokens));
    } = 128;

    public SamplingOptions Sampling
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(Sampling));
    } = new();

    /// <summary>Strings that end generation when they appear in the output; the stop string itself is not emitted.</summary>
    public IReadOnlyList<string> StopStrings
    {
        get;
        init => field = value is null ? throw new ArgumentNullException(nameof(StopStrings))
            : value.Any(string.IsNullOrEmpty) ? throw new ArgumentException("stop strings must not be empty", nameof(StopStrings))
            : value;
    } = [];

    /// <summary>Add BOS (and other special tokens) the way llama.cpp does when tokenizing the prompt.</summary>
    public bool AddSpecial { get; init; } = true;

    /// <summary>Recognize special-token text such as &lt;|im_start|&gt; in the prompt.</summary>
    public bool ParseSpecial { get; init; } = true;

    /// <summary>KV cache length; null uses the model's context length.</summary>
    public int? ContextLength
    {
        get;
        init => field = value is null or > 0 ? value : throw new ArgumentException($"ContextLength must be positive, got {value}", nameof(ContextLength));
    }

    /// <summary>Prompt tokens evaluated per forward call during prefill (bounds the model's scratch memory).</summary>
    public int PrefillChunk
    {
        get;
        init => field = value > 0 ? value : throw new ArgumentException($"PrefillChunk must be positive, got {value}", nameof(PrefillChunk));
    } = 512;

    /// <summary>Element types of the sequence's K and V cache (llama.cpp's <c>-ctk/-ctv</c>); f16/f16 by default.</summary>
    public KvCacheTypes KvCacheTypes { get; init; }

    /// <summary>Context shift or a KV budget (see <see cref="KvRetentionOptions"/>); none by default.</summary>
    public KvRetentionOptions KvRetention
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(KvRetention));
    } = KvRetentionOptions.None;

    /// <summary>Never sample an end-of-generation token (llama.cpp's <c>--ignore-eos</c>): generate until the token limit.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Constrains the output to this grammar (GBNF, JSON, a JSON Schema); null leaves it free.</summary>
    public Constraints.GbnfGrammar? Grammar { get; init; }

    /// <summary>
    /// Speculative decoding (draft model, prompt lookup); off by default. Not with a grammar (the sequence decodes
    /// plainly then) nor with KIVI KV types (their keys are quantized per block, so rejected drafts cannot be rolled back).
    /// </summary>
    public Speculation.SpeculationOptions Speculation
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(Speculation));
    } = Inference.Speculation.SpeculationOptions.Off;

    /// <summary>Called after each context shift or eviction with the slots and tokens kept.</summary>
    public Action<KvCompactionEvent>? KvCompacted { get; init; }
}
