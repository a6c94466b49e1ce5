using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;

namespace Frugal.Inference.Engine;

/// <summary>One generation asked of the engine: prompt tokens, limits, sampling and what to report.</summary>
public sealed record EngineRequest
{
    public required IReadOnlyList<int> PromptTokens { get; init; }

    /// <summary>Most tokens to generate; null generates until end of generation or a full context.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>This request's sampler settings, seed included; every request samples with its own sampler.</summary>
    public SamplingOptions Sampling { get; init; } = new() { Temperature = 0 };

    /// <summary>Strings that end generation; the stop string itself is not emitted.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Context shift or KV budget for this request; null uses the engine's (<see cref="EngineOptions.KvRetention"/>).</summary>
    public KvRetentionOptions? KvRetention { get; init; }

    /// <summary>Never sample an end-of-generation token (llama.cpp's ignore_eos).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Constrains the output to this grammar (GBNF, JSON, a JSON Schema); null leaves it free.</summary>
    public Constraints.GbnfGrammar? Grammar { get; init; }

    /// <summary>Report the log-probability of each generated token.</summary>
    public bool Logprobs { get; init; }

    /// <summary>With <see cref="Logprobs"/>: the most likely alternatives reported per token (0..20).</summary>
    public int TopLogprobs { get; init; }
}

/// <summary>Why a generation ended, in OpenAI's terms.</summary>
public enum EngineFinishReason
{
    /// <summary>End-of-generation token or a stop string.</summary>
    Stop,

    /// <summary>The token limit (max_tokens, or the context).</summary>
    Length,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>A token alternative and its log-probability.</summary>
public readonly record struct TokenLogprob(int TokenId, string Text, float Logprob);

/// <summary>What a request's stream carries: tokens as they are generated, then one <see cref="EngineFinished"/>.</summary>
public abstract record EngineEvent;

/// <summary>
/// One generated token and the text it releases (empty while held back by UTF-8 or a possible stop string).
/// <see cref="Logprob"/> and <see cref="TopLogprobs"/> are set when the request asked for them.
/// </summary>
public sealed record EngineToken(int TokenId, string Text, TokenLogprob? Logprob, IReadOnlyList<TokenLogprob>? TopLogprobs) : EngineEvent;

/// <summary>The end of a stream: remaining text (held back until now), why it ended, and the counts.</summary>
/// <param name="CompletionTokens">generated tokens, not counting an end-of-generation token.</param>
/// <param name="CachedPromptTokens">prompt tokens whose K/V came from the prefix cache.</param>
public sealed record EngineFinished(string Text, EngineFinishReason Reason, int PromptTokens, int CompletionTokens, int CachedPromptTokens) : EngineEvent;

/// <summary>A request refused because the queue is full; try again later.</summary>
public sealed class EngineOverloadedException(int queued)
    : Exception($"the engine's queue is full ({queued} requests waiting); try again later")
{
    public int Queued { get; } = queued;
}

/// <summary>
/// A request refused because its prompt alone fills the context (and no KV budget lets it be evicted as it is read):
/// the prompt, not the number of tokens asked for, is what must change.
/// </summary>
public sealed class ContextLengthExceededException(int promptTokens, int contextLength)
    : ArgumentException($"the prompt is {promptTokens} tokens but the context holds {contextLength}, leaving no room to generate", "request")
{
    public int PromptTokens { get; } = promptTokens;

    public int ContextLength { get; } = contextLength;
}
