using Frugal.Inference.Generation;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Tokenization;

namespace Frugal.Evaluation;

/// <summary>
/// Held-out task accuracy with the engine itself: each item's prompt (with BOS, as the model's tokenizer adds it)
/// is prefilled and the answer decoded greedily, token by token, through <see cref="TextGenerator"/> — the same
/// path as <c>frugal run --temp 0</c>. An item is correct when the text is the expected answer followed by its
/// terminator (or, for an empty terminator, by an end-of-generation token), as <see cref="HeldOutSets.IsCorrect"/>
/// decides; decoding stops a few tokens past the answer's length, so a model that rambles is cut off and wrong.
/// </summary>
public sealed class GreedyTaskEvaluator
{
    /// <summary>Tokens decoded beyond the answer's own token count (a model may spell it in smaller pieces).</summary>
    public const int ExtraTokens = 4;

    private readonly ILanguageModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly TextGenerator _generator;
    private readonly KvCacheTypes _cacheTypes;
    private readonly KvRetentionOptions _retention;

    /// <param name="cacheTypes">element types of each item's K and V cache (f16/f16 by default).</param>
    /// <param name="retention">KV budget (eviction policy) of each item's sequence; none by default.</param>
    public GreedyTaskEvaluator(ILanguageModel model, Tokenizer tokenizer, KvCacheTypes cacheTypes = default, KvRetentionOptions? retention = null)
    {
        _cacheTypes = cacheTypes;
        _retention = retention ?? KvRetentionOptions.None;
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _generator = new TextGenerator(model, tokenizer);
    }

    /// <summary>
    /// The held-out items of <paramref name="task"/>. Recall items are filtered by <see cref="RecallDistance"/>
    /// with this tokenizer and the model's context. Throws <see cref="ArgumentException"/> when the tokenizer
    /// cannot spell the task's text (it would score garbage) or when no recall item fits the context.
    /// </summary>
    public IReadOnlyList<EvalItem> HeldOutItems(EvalTask task, int count, ulong seed = HeldOutSets.DefaultSeed)
    {
        if (count < 1) throw new ArgumentException($"the item count must be at least 1, got {count}", nameof(count));
        CheckSpells(HeldOutSets.Items(task, 1, seed)[0], task);
        if (task != EvalTask.Recall) return HeldOutSets.Items(task, count, seed);
        int context = _model.Config.ContextLength;
        try
        {
            return HeldOutSets.Items(task, count, seed, RecallDistance.Filter(CountTokens, context));
        }
        catch (InvalidOperationException)
        {
            throw new ArgumentException(
                $"no recall item fits: each needs its key {RecallDistance.MinKeyDistance}+ tokens back and the whole item within the model's context of {context} tokens");
        }
    }

    /// <summary>Greedy accuracy over <paramref name="items"/>; <paramref name="onItem"/> sees each item, its continuation and whether it was right.</summary>
    public AccuracyEstimate Measure(IReadOnlyList<EvalItem> items, Action<EvalItem, string, bool>? onItem = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        int correct = 0;
        foreach (var item in items)
        {
            var (text, endedWithEos) = Continue(item, cancellationToken);
            bool ok = HeldOutSets.IsCorrect(item, text, endedWithEos);
            if (ok) correct++;
            onItem?.Invoke(item, text, ok);
        }
        return new AccuracyEstimate(correct, items.Count);
    }

    /// <summary>The greedy continuation of BOS + the item's prompt, long enough to decide the item.</summary>
    public (string Text, bool EndedWithEos) Continue(EvalItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        int[] prompt = _tokenizer.Encode(item.Prompt, addSpecial: true, parseSpecial: false);
        int answer = CountTokens(item.AnswerText) + (item.Terminator.Length == 0 ? 1 : 0); // + EOS
        var options = new GenerationOptions
        {
            MaxTokens = answer + ExtraTokens,
            Sampling = SamplingOptions.Greedy,
            ParseSpecial = false,
            KvCacheTypes = _cacheTypes,
            KvRetention = _retention,
        };
        var result = _generator.Generate(prompt, options, null, cancellationToken);
        return (result.Text, result.StopReason == StopReason.EndOfGeneration);
    }

    private int CountTokens(string text) => _tokenizer.Encode(text, addSpecial: false, parseSpecial: false).Length;

    /// <summary>A tokenizer that drops characters it has no token for would make every answer unreachable: refuse it up front.</summary>
    private void CheckSpells(EvalItem item, EvalTask task)
    {
        foreach (string text in new[] { item.Prompt, item.AnswerText })
        {
            int[] ids = _tokenizer.Encode(text, addSpecial: false, parseSpecial: false);
            foreach (int id in ids)
                if ((uint)id >= (uint)_model.Config.VocabSize)
                    throw new ArgumentException($"the tokenizer gives id {id} for the {task} text, outside the model's vocabulary [0, {_model.Config.VocabSize})");
            string back = _tokenizer.Decode(ids);
            if (back != text)
                throw new ArgumentException(
                    $"the model's tokenizer cannot encode the {Name(task)} items: '{Shorten(text)}' comes back as '{Shorten(back)}' (the held-out tasks need a tokenizer that spells their text, such as the built-in model's)");
        }
    }

    private static string Name(EvalTask task) => task.ToString().ToLowerInvariant();

    private static string Shorten(string s)
    {
        s = s.Replace("\n", "\\n", StringComparison.Ordinal);
        return s.Length > 40 ? s[..40] + "..." : s;
    }
}
