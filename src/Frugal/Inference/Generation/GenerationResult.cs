namespace Frugal.Inference.Generation;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>The model produced an end-of-generation token (EOS, EOT, end of turn).</summary>
    EndOfGeneration,
    /// <summary>The requested number of tokens was generated.</summary>
    MaxTokens,
    /// <summary>A stop string appeared in the output.</summary>
    StopString,
    /// <summary>The KV cache is full.</summary>
    ContextFull,
}

/// <summary>
/// One generated token and the text it releases (empty while text is held back). The last piece of a run may
/// have <see cref="TokenId"/> -1: it releases text held back at the end (a partial stop string, a broken character).
/// </summary>
public readonly record struct GeneratedPiece(int TokenId, string Text);

/// <summary>
/// Where the time went. Prefill is the forward passes over the prompt; decode is the one-token forward passes
/// after it (with speculation, decode tokens are the tokens those steps produced); sampling (the sampler chain, every generated token) is counted apart, as llama.cpp does.
/// </summary>
public sealed record GenerationTimings(int PromptTokens, TimeSpan Prefill, int DecodeTokens, TimeSpan Decode, int SampledTokens, TimeSpan Sampling)
{
    public double PrefillTokensPerSecond => Rate(PromptTokens, Prefill);

    public double DecodeTokensPerSecond => Rate(DecodeTokens, Decode);

    /// <summary>Tokens drafted by speculative decoding and accepted by the model.</summary>
    public Speculation.SpeculationCounters Speculation { get; init; }

    private static double Rate(int tokens, TimeSpan time) => time > TimeSpan.Zero ? tokens / time.TotalSeconds : 0;
}

/// <summary>The outcome of a generation.</summary>
/// <param name="PromptTokens">the prompt as token ids (with BOS when added).</param>
/// <param name="Tokens">generated ids, including those that spelled a stop string; an end-of-generation token that stopped it is not included.</param>
/// <param name="Text">the emitted text, without a stop string that ended it.</param>
/// <param name="StopReason">why it ended.</param>
/// <param name="Timings">throughput.</param>
public sealed record GenerationResult(
    IReadOnlyList<int> PromptTokens,
    IReadOnlyList<int> Tokens,
    string Text,
    StopReason StopReason,
    GenerationTimings Timings)
{
    /// <summary>Context shifts or evictions the generation went through.</summary>
    public int KvCompactions { get; init; }
}
