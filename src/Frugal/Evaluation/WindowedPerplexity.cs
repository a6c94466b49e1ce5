using System.Numerics.Tensors;
using Frugal.Models;
using Frugal.Tokenization;

namespace Frugal.Evaluation;

/// <summary>What <see cref="WindowedPerplexity"/> measured.</summary>
/// <param name="Perplexity">exp(mean negative log-likelihood of the scored tokens).</param>
/// <param name="Error">llama.cpp's "+/-": the standard error of the mean NLL times the perplexity.</param>
/// <param name="Tokens">tokens of the whole text (BOS included when the tokenizer adds it).</param>
/// <param name="Chunks">windows evaluated (tokens / context, rounded down; the tail is dropped).</param>
/// <param name="ContextLength">tokens per window.</param>
/// <param name="ScoredTokens">tokens whose likelihood entered the estimate.</param>
/// <param name="RunningPerplexity">the estimate after each window, as llama.cpp prints it ([1]..,[2]..).</param>
public sealed record PerplexityResult(double Perplexity, double Error, int Tokens, int Chunks, int ContextLength, int ScoredTokens,
    IReadOnlyList<double> RunningPerplexity);

/// <summary>
/// Perplexity as llama.cpp's perplexity tool (tools/perplexity/perplexity.cpp) defines it: the text is tokenized
/// once (with BOS when the vocabulary adds one) and cut into non-overlapping windows of n_ctx tokens; each window
/// is evaluated from an empty cache with its first token replaced by BOS, and only its second half is scored
/// (the logits at positions n_ctx/2 .. n_ctx-2 predicting the next token), so every scored token has at least
/// n_ctx/2 tokens of context. The text must hold at least two windows, as llama.cpp requires.
/// </summary>
public static class WindowedPerplexity
{
    /// <summary>The smallest window: one scored token per window, and two windows give the two tokens an error needs.</summary>
    public const int MinContextLength = 4;

    /// <summary>Tokens a text must have for a window of <paramref name="contextLength"/>: two windows, as in llama.cpp.</summary>
    public static int MinimumTokens(int contextLength) => 2 * contextLength;

    /// <summary>The text's tokens as the perplexity tool sees them: special tokens added (BOS), special-token text not parsed.</summary>
    public static int[] Tokenize(Tokenizer tokenizer, string text) =>
        tokenizer.Encode(text ?? throw new ArgumentNullException(nameof(text)), addSpecial: true, parseSpecial: false);

    /// <summary>Tokenizes <paramref name="text"/> and measures it; see <see cref="Measure(ILanguageModel, IReadOnlyList{int}, int, int, int?, Action{int, double}?, CancellationToken)"/>.</summary>
    public static PerplexityResult Measure(ILanguageModel model, Tokenizer tokenizer, string text, int contextLength, int batchSize,
        Action<int, double>? onChunk = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int? bos = tokenizer.AddBos ? tokenizer.BosId : null;
        return Measure(model, Tokenize(tokenizer, text), contextLength, batchSize, bos, onChunk, cancellationToken);
    }

    /// <param name="model">the model; its context must hold <paramref name="contextLength"/> tokens.</param>
    /// <param name="tokens">the whole text, at least <see cref="MinimumTokens"/> tokens.</param>
    /// <param name="contextLength">tokens per window (n_ctx).</param>
    /// <param name="batchSize">tokens per forward call inside a window (bounds the logits buffer; the result does not depend on it).</param>
    /// <param name="bos">the id written over each window's first token; null leaves the windows as they are.</param>
    /// <param name="onChunk">called after each window with its 1-based number and the running perplexity.</param>
    /// <exception cref="ArgumentException">a size is out of range, the text is too short, or a token id is outside the vocabulary.</exception>
    public static PerplexityResult Measure(ILanguageModel model, IReadOnlyList<int> tokens, int contextLength, int batchSize, int? bos,
        Action<int, double>? onChunk = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        int vocab = model.Config.VocabSize;
        if (contextLength < MinContextLength || contextLength > model.Config.ContextLength)
            throw new ArgumentException($"the window must be {MinContextLength} to {model.Config.ContextLength} tokens (the model's context), got {contextLength}", nameof(contextLength));
        if (batchSize < 1)
            throw new ArgumentException($"the batch must be at least 1 token, got {batchSize}", nameof(batchSize));
        if (tokens.Count < MinimumTokens(contextLength))
            throw new ArgumentException($"the text is only {tokens.Count} tokens; a window of {contextLength} needs at least {MinimumTokens(contextLength)} (two windows)", nameof(tokens));
        if (bos is { } b && (uint)b >= (uint)vocab)
            throw new ArgumentException($"BOS id {b} is outside the vocabulary [0, {vocab})", nameof(bos));
        for (int i = 0; i < tokens.Count; i++)
            if ((uint)tokens[i] >= (uint)vocab)
                throw new ArgumentException($"token #{i} is id {tokens[i]}, outside the model's vocabulary [0, {vocab})", nameof(tokens));

        batchSize = Math.Min(batchSize, contextLength);
        int chunks = tokens.Count / contextLength;
        int first = contextLength / 2;
        var cache = model.CreateCache(contextLength);
        var window = new int[contextLength];            // [n_ctx] token ids of one window
        var logits = new float[batchSize * vocab];      // [batch, vocab]
        var scratch = new float[vocab];                 // [vocab] exp(logit - max)
        var running = new List<double>(chunks);
        double nll = 0, nll2 = 0;
        int count = 0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int start = chunk * contextLength;
            for (int i = 0; i < contextLength; i++) window[i] = tokens[start + i];
            if (bos is { } id) window[0] = id;
            cache.Truncate(0);
            for (int batchStart = 0; batchStart < contextLength; batchStart += batchSize)
            {
                int n = Math.Min(batchSize, contextLength - batchStart);
                // Batches wholly before the scored half only fill the cache; their logits are not needed.
                bool scored = batchStart + n - 1 >= first;
                model.Forward(window.AsSpan(batchStart, n), cache, logits, allLogits: scored);
                if (!scored) continue;
                for (int p = Math.Max(first, batchStart); p < batchStart + n && p < contextLength - 1; p++)
                {
                    // The target is the text's token, never the BOS written over a window's first position.
                    double v = -LogSoftmax(logits.AsSpan((p - batchStart) * vocab, vocab), window[p + 1], scratch);
                    nll += v;
                    nll2 += v * v;
                    count++;
                }
            }
            running.Add(Math.Exp(nll / count));
            onChunk?.Invoke(chunk + 1, running[^1]);
        }

        double mean = nll / count;
        double variance = nll2 / count - mean * mean;
        double perplexity = Math.Exp(mean);
        // llama.cpp: sqrt(var / (count - 1)) is the standard error of the mean NLL; times ppl, that of the perplexity.
        double error = variance > 0 ? Math.Sqrt(variance / (count - 1)) * perplexity : 0;
        return new PerplexityResult(perplexity, error, tokens.Count, chunks, contextLength, count, running);
    }

    /// <summary>log softmax(logits)[target], with the sum of exponentials in double as llama.cpp does.</summary>
    private static double LogSoftmax(ReadOnlySpan<float> logits, int target, Span<float> scratch)
    {
        float max = TensorPrimitives.Max(logits);
        TensorPrimitives.Subtract(logits, max, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        double sum = 0;
        foreach (float e in scratch) sum += e;
        return logits[target] - max - Math.Log(sum);
    }
}
