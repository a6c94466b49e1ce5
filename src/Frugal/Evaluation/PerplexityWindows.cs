using Frugal.Inference.Retention;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Evaluation;

/// <summary>One scored position: the logits row [vocab] that predicts <paramref name="target"/>, the text's next token.</summary>
public delegate void ScoredPosition(ReadOnlySpan<float> logits, int target);

/// <summary>
/// The windows llama.cpp's perplexity tool (tools/perplexity/perplexity.cpp) evaluates, in one place for every
/// measurement made over them (perplexity, saving the base log-probabilities, KL divergence against them): the
/// text is cut into non-overlapping windows of n_ctx tokens (the tail that does not fill a window is dropped); each
/// window is evaluated from an empty cache with its first token replaced by BOS, and only its second half is scored
/// (the logits at positions n_ctx/2 .. n_ctx-2 predicting the next token), so every scored token has at least
/// n_ctx/2 tokens of context. The text must hold at least two windows, as llama.cpp requires.
/// </summary>
public sealed class PerplexityWindows
{
    /// <summary>The smallest window: one scored token per window, and two windows give the two tokens an error needs.</summary>
    public const int MinContextLength = 4;

    /// <param name="tokens">the whole text, at least <see cref="MinimumTokens"/> tokens.</param>
    /// <param name="contextLength">tokens per window (n_ctx).</param>
    /// <param name="batchSize">tokens per forward call inside a window (bounds the logits buffer; the result does not depend on it).</param>
    /// <param name="bos">the id written over each window's first token; null leaves the windows as they are.</param>
    /// <exception cref="ArgumentException">a size is out of range or the text is too short.</exception>
    public PerplexityWindows(IReadOnlyList<int> tokens, int contextLength, int batchSize, int? bos)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (contextLength < MinContextLength)
            throw new ArgumentException($"the window must be at least {MinContextLength} tokens, got {contextLength}", nameof(contextLength));
        if (batchSize < 1)
            throw new ArgumentException($"the batch must be at least 1 token, got {batchSize}", nameof(batchSize));
        if (tokens.Count < MinimumTokens(contextLength))
            throw new ArgumentException($"the text is only {tokens.Count} tokens; a window of {contextLength} needs at least {MinimumTokens(contextLength)} (two windows)", nameof(tokens));
        Tokens = tokens;
        ContextLength = contextLength;
        BatchSize = Math.Min(batchSize, contextLength);
        Bos = bos;
    }

    /// <summary>Tokens a text must have for a window of <paramref name="contextLength"/>: two windows, as in llama.cpp.</summary>
    public static int MinimumTokens(int contextLength) => 2 * contextLength;

    /// <summary>The whole text, BOS included when the tokenizer adds it.</summary>
    public IReadOnlyList<int> Tokens { get; }

    /// <summary>Tokens per window (n_ctx).</summary>
    public int ContextLength { get; }

    /// <summary>Tokens per forward call, at most <see cref="ContextLength"/>.</summary>
    public int BatchSize { get; }

    /// <summary>The id written over each window's first token, or null.</summary>
    public int? Bos { get; }

    /// <summary>
    /// Element types of the K and V cache each window is evaluated with (f16/f16 by default): what a KV quantization's
    /// perplexity or KL divergence against an f16 base measures.
    /// </summary>
    public KvCacheTypes CacheTypes { get; init; }

    /// <summary>A KV budget each window is evaluated under (its eviction policy's perplexity); none by default.</summary>
    public KvRetentionOptions KvRetention { get; init; } = KvRetentionOptions.None;

    /// <summary>Windows evaluated: tokens / n_ctx, rounded down.</summary>
    public int Count => Tokens.Count / ContextLength;

    /// <summary>The first scored position of a window: n_ctx / 2.</summary>
    public int FirstScored => ContextLength / 2;

    /// <summary>Positions scored per window: FirstScored .. n_ctx - 2.</summary>
    public int ScoredPerWindow => ContextLength - 1 - FirstScored;

    /// <summary>Positions scored over all windows.</summary>
    public int ScoredTokens => Count * ScoredPerWindow;

    /// <summary>
    /// Evaluates every window with <paramref name="model"/> and hands each scored position to <paramref name="onPosition"/>,
    /// in order (window by window, position by position); <paramref name="onWindow"/> gets each window's 1-based number
    /// after its last position.
    /// </summary>
    /// <exception cref="ArgumentException">the window exceeds the model's context, or a token id is outside its vocabulary.</exception>
    public void Evaluate(ILanguageModel model, ScoredPosition onPosition, Action<int>? onWindow = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(onPosition);
        CheckFits(model.Config);
        int vocab = model.Config.VocabSize;
        var cache = new BoundedSequence(model, CacheTypes, ContextLength, new KvRetention(KvRetention, ContextLength, KvTile.Positions, Bos is not null));
        var window = new int[ContextLength];            // [n_ctx] token ids of one window
        var logits = new float[BatchSize * vocab];      // [batch, vocab]
        for (int chunk = 0; chunk < Count; chunk++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int start = chunk * ContextLength;
            for (int i = 0; i < ContextLength; i++) window[i] = Tokens[start + i];
            if (Bos is { } id) window[0] = id;
            cache.Reset();
            for (int batchStart = 0; batchStart < ContextLength; batchStart += BatchSize)
            {
                int n = Math.Min(BatchSize, ContextLength - batchStart);
                // Batches wholly before the scored half only fill the cache; their logits are not needed.
                bool scored = batchStart + n - 1 >= FirstScored;
                cache.Forward(window.AsSpan(batchStart, n), logits, allLogits: scored);
                if (!scored) continue;
                for (int p = Math.Max(FirstScored, batchStart); p < batchStart + n && p < ContextLength - 1; p++)
                    // The target is the text's token, never the BOS written over a window's first position.
                    onPosition(logits.AsSpan((p - batchStart) * vocab, vocab), window[p + 1]);
            }
            onWindow?.Invoke(chunk + 1);
        }
    }

    private void CheckFits(ModelConfig config)
    {
        int vocab = config.VocabSize;
        if (ContextLength > config.ContextLength)
            throw new ArgumentException($"the window must be {MinContextLength} to {config.ContextLength} tokens (the model's context), got {ContextLength}", "contextLength");
        if (Bos is { } b && (uint)b >= (uint)vocab)
            throw new ArgumentException($"BOS id {b} is outside the vocabulary [0, {vocab})", "bos");
        for (int i = 0; i < Tokens.Count; i++)
            if ((uint)Tokens[i] >= (uint)vocab)
                throw new ArgumentException($"token #{i} is id {Tokens[i]}, outside the model's vocabulary [0, {vocab})", "tokens");
    }
}
