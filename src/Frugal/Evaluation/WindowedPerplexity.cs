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
/// Perplexity as llama.cpp's perplexity tool (tools/perplexity/perplexity.cpp) defines it, over the windows that
/// <see cref="PerplexityWindows"/> describes: exp of the mean negative log-likelihood of every scored token.
/// </summary>
public static class WindowedPerplexity
{
    /// <inheritdoc cref="PerplexityWindows.MinContextLength"/>
    public const int MinContextLength = PerplexityWindows.MinContextLength;

    /// <inheritdoc cref="PerplexityWindows.MinimumTokens"/>
    public static int MinimumTokens(int contextLength) => PerplexityWindows.MinimumTokens(contextLength);

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
        Action<int, double>? onChunk = null, CancellationToken cancellationToken = default) =>
        Measure(model, new PerplexityWindows(tokens, contextLength, batchSize, bos), onChunk, null, cancellationToken);

    /// <summary>Measures the perplexity of <paramref name="windows"/>.</summary>
    /// <param name="onChunk">called after each window with its 1-based number and the running perplexity.</param>
    /// <param name="saveBase">when given, receives the log-probabilities of every scored position (the base of a later
    /// <see cref="KlDivergence"/> measurement); the caller completes it.</param>
    public static PerplexityResult Measure(ILanguageModel model, PerplexityWindows windows, Action<int, double>? onChunk = null,
        BaseLogitsWriter? saveBase = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(windows);
        var scratch = new float[model.Config.VocabSize];   // [vocab] exp(logit - max)
        var running = new List<double>(windows.Count);
        var nll = new RunningMean();
        windows.Evaluate(model, (logits, target) =>
        {
            nll.Add(-LogProbabilities.Of(logits, target, scratch));
            saveBase?.Write(logits);
        }, chunk =>
        {
            running.Add(Math.Exp(nll.Mean));
            onChunk?.Invoke(chunk, running[^1]);
        }, cancellationToken);

        double perplexity = Math.Exp(nll.Mean);
        // llama.cpp: sqrt(var / (count - 1)) is the standard error of the mean NLL; times ppl, that of the perplexity.
        return new PerplexityResult(perplexity, nll.StandardError * perplexity, windows.Tokens.Count, windows.Count,
            windows.ContextLength, nll.Count, running);
    }
}
