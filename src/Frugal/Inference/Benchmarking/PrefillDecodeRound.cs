using Frugal.Inference.Retention;
using System.Diagnostics;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Inference.Benchmarking;

/// <summary>Wall time of one round: the prompt in one batch, then the decode steps one token each.</summary>
public readonly record struct RoundTiming(TimeSpan Prefill, TimeSpan Decode);

/// <summary>
/// One benchmark round as llama-bench's pp/tg measure it: a prefill of <see cref="PromptTokens"/> random tokens in a
/// single Forward call, then <see cref="DecodeTokens"/> single-token Forward calls continuing the same sequence. At a
/// depth (llama-bench's <c>-d</c>), <see cref="DepthTokens"/> random tokens are evaluated first, untimed, in calls of
/// at most <see cref="DepthChunkTokens"/>, so the timed prefill and decode attend over that many cached positions.
/// Tokens are random (seeded) and fixed up front, so no sampling is timed; the cache and logits buffer are made
/// once and reused, so a round times the model and nothing else.
/// </summary>
public sealed class PrefillDecodeRound
{
    /// <summary>Most depth tokens per Forward call: llama-bench's default micro-batch (n_ubatch 512).</summary>
    public const int DepthChunkTokens = 512;

    private readonly ILanguageModel _model;
    private readonly BoundedSequence _cache;  // the round's sequence (a KV budget evicts as it goes)
    private readonly int[] _depth;    // [DepthTokens]
    private readonly int[] _prompt;   // [PromptTokens]
    private readonly int[] _decode;   // [DecodeTokens]
    private readonly float[] _logits; // [vocab], last token only

    /// <param name="cacheTypes">element types of the round's K and V cache (llama-bench's <c>-ctk/-ctv</c>; f16/f16 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// a prompt or decode count below 1, a negative depth, or the three together longer than the model's context.
    /// </exception>
    public PrefillDecodeRound(ILanguageModel model, int promptTokens, int decodeTokens, int seed = 42, int depthTokens = 0,
        KvCacheTypes cacheTypes = default, KvRetentionOptions? retention = null)
    {
        retention ??= KvRetentionOptions.None;
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(decodeTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(depthTokens);
        int context = model.Config.ContextLength;
        // Under a KV budget the positions are renumbered as the round evicts, so the round may outlive the context.
        if ((long)depthTokens + promptTokens + decodeTokens > context && retention.Budget is null)
            throw new ArgumentOutOfRangeException(nameof(promptTokens), depthTokens == 0
                ? $"prompt ({promptTokens}) + decode ({decodeTokens}) tokens exceed the model's context length {context}"
                : $"depth ({depthTokens}) + prompt ({promptTokens}) + decode ({decodeTokens}) tokens exceed the model's context length {context}");
        _model = model;
        PromptTokens = promptTokens;
        DecodeTokens = decodeTokens;
        DepthTokens = depthTokens;
        int vocab = model.Config.VocabSize;
        var rng = new Random(seed);
        _prompt = new int[promptTokens];
        _decode = new int[decodeTokens];
        _depth = new int[depthTokens];
        // Depth drawn last, so a given seed gives the same prompt and decode ids at every depth.
        for (int i = 0; i < _prompt.Length; i++) _prompt[i] = rng.Next(vocab);
        for (int i = 0; i < _decode.Length; i++) _decode[i] = rng.Next(vocab);
        for (int i = 0; i < _depth.Length; i++) _depth[i] = rng.Next(vocab);
        CacheTypes = cacheTypes;
        // At the block size CreateCache picks for these types (KIVI keys' scale and minimum are per block).
        KvBytesPerToken = (long)model.Config.BlockCount * cacheTypes.BytesPerLayerPosition(model.Config.HeadCountKv, model.Config.HeadDim);
        _cache = new BoundedSequence(model, cacheTypes, (int)Math.Min(context, (long)depthTokens + promptTokens + decodeTokens),
            new KvRetention(retention, context, KvTile.Positions, startsWithBos: false));
        _logits = new float[vocab];
    }

    public int PromptTokens { get; }

    public int DecodeTokens { get; }

    /// <summary>Tokens already in the cache when the timed prefill starts.</summary>
    public int DepthTokens { get; }

    /// <summary>Element types of the round's K and V cache.</summary>
    public KvCacheTypes CacheTypes { get; }

    /// <summary>Bytes of K and V one token takes over all layers in these types (llama.cpp's figure for the same types).</summary>
    public long KvBytesPerToken { get; }

    /// <summary>The ids evaluated untimed before the prompt, [DepthTokens].</summary>
    public ReadOnlySpan<int> Depth => _depth;

    /// <summary>The prompt ids evaluated by the prefill, [PromptTokens] (to feed another engine the same ones).</summary>
    public ReadOnlySpan<int> Prompt => _prompt;

    /// <summary>The ids fed to the decode steps in order, [DecodeTokens].</summary>
    public ReadOnlySpan<int> DecodeInputs => _decode;

    /// <summary>Logits of the last token evaluated (a check that the round computed something).</summary>
    public ReadOnlySpan<float> LastLogits => _logits;

    /// <summary>Positions in the round's cache: depth + prompt + decode after a round.</summary>
    public int CachedPositions => _cache.Count;

    /// <summary>Runs one round from an empty cache (the depth refilled, untimed) and returns its timings.</summary>
    public RoundTiming Measure(CancellationToken cancellation = default)
    {
        _cache.Reset();
        for (int at = 0; at < _depth.Length; at += DepthChunkTokens)
        {
            cancellation.ThrowIfCancellationRequested();
            _cache.Forward(_depth.AsSpan(at, Math.Min(DepthChunkTokens, _depth.Length - at)), _logits);
        }
        long start = Stopwatch.GetTimestamp();
        _cache.Forward(_prompt, _logits);
        var prefill = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < _decode.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            _cache.Forward(_decode.AsSpan(i, 1), _logits);
        }
        var decode = Stopwatch.GetElapsedTime(start);
        return new RoundTiming(prefill, decode);
    }
}
