using System.Diagnostics;
using Frugal.Models;

namespace Frugal.Inference.Benchmarking;

/// <summary>Wall time of one round: the prompt in one batch, then the decode steps one token each.</summary>
public readonly record struct RoundTiming(TimeSpan Prefill, TimeSpan Decode);

/// <summary>
/// One benchmark round as llama-bench's pp/tg measure it: a prefill of <see cref="PromptTokens"/> random tokens in a
/// single Forward call, then <see cref="DecodeTokens"/> single-token Forward calls continuing the same sequence.
/// Tokens are random (seeded) and fixed up front, so no sampling is timed; the cache and logits buffer are made
/// once and reused, so a round times the model and nothing else.
/// </summary>
public sealed class PrefillDecodeRound
{
    private readonly ILanguageModel _model;
    private readonly KvCache _cache;
    private readonly int[] _prompt;   // [PromptTokens]
    private readonly int[] _decode;   // [DecodeTokens]
    private readonly float[] _logits; // [vocab], last token only

    /// <exception cref="ArgumentOutOfRangeException">a count below 1, or both together longer than the model's context.</exception>
    public PrefillDecodeRound(ILanguageModel model, int promptTokens, int decodeTokens, int seed = 42)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeTokens, 1);
        int context = model.Config.ContextLength;
        if ((long)promptTokens + decodeTokens > context)
            throw new ArgumentOutOfRangeException(nameof(promptTokens),
                $"prompt ({promptTokens}) + decode ({decodeTokens}) tokens exceed the model's context length {context}");
        _model = model;
        PromptTokens = promptTokens;
        DecodeTokens = decodeTokens;
        int vocab = model.Config.VocabSize;
        var rng = new Random(seed);
        _prompt = new int[promptTokens];
        _decode = new int[decodeTokens];
        for (int i = 0; i < _prompt.Length; i++) _prompt[i] = rng.Next(vocab);
        for (int i = 0; i < _decode.Length; i++) _decode[i] = rng.Next(vocab);
        _cache = model.CreateCache(promptTokens + decodeTokens);
        _logits = new float[vocab];
    }

    public int PromptTokens { get; }

    public int DecodeTokens { get; }

    /// <summary>The prompt ids evaluated by the prefill, [PromptTokens] (to feed another engine the same ones).</summary>
    public ReadOnlySpan<int> Prompt => _prompt;

    /// <summary>The ids fed to the decode steps in order, [DecodeTokens].</summary>
    public ReadOnlySpan<int> DecodeInputs => _decode;

    /// <summary>Logits of the last token evaluated (a check that the round computed something).</summary>
    public ReadOnlySpan<float> LastLogits => _logits;

    /// <summary>Runs one round from an empty cache and returns its timings.</summary>
    public RoundTiming Measure(CancellationToken cancellation = default)
    {
        _cache.Truncate(0);
        long start = Stopwatch.GetTimestamp();
        _model.Forward(_prompt, _cache, _logits);
        var prefill = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < _decode.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            _model.Forward(_decode.AsSpan(i, 1), _cache, _logits);
        }
        var decode = Stopwatch.GetElapsedTime(start);
        return new RoundTiming(prefill, decode);
    }
}
