using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using Frugal.Inference.Benchmarking;
using Frugal.Numerics.Attention;

namespace Frugal.Bench;

/// <summary>
/// llama.cpp's side of a side-by-side round, with Frugal's protocol (<see cref="PrefillDecodeRound"/>): at a depth, the
/// depth ids first, untimed, in llama_decode batches of at most <see cref="PrefillDecodeRound.DepthChunkTokens"/> (as
/// llama-bench's <c>-d</c> does with its n_ubatch of 512); then the prompt in one llama_decode batch (logits of the last token only, as llama-bench), then one llama_decode per decoded token,
/// each followed by llama_synchronize. Threads and batch threads are both the requested count; the KV cache types are
/// the round's (f16 by default, llama.cpp's own) and flash attention stays at llama.cpp's default ("auto", enabled on
/// the CPU), as llama-bench runs them, except that a quantized V cache asks for it explicitly (llama.cpp needs it).
/// </summary>
internal sealed class LlamaCppRound : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private readonly int[] _depth;
    private readonly int[] _prompt;
    private readonly int[] _decode;

    public LlamaCppRound(string path, int[] depth, int[] prompt, int[] decode, int threads, KvCacheTypes cacheTypes = default)
    {
        _depth = depth;
        _prompt = prompt;
        _decode = decode;
        var p = new ModelParams(path)
        {
            ContextSize = (uint)(depth.Length + prompt.Length + decode.Length),
            BatchSize = (uint)Math.Max(prompt.Length, 2048),  // llama-bench's n_batch 2048 / n_ubatch 512
            UBatchSize = (uint)Math.Max(prompt.Length, 512),  // a batch of p tokens is one ubatch: one graph
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = GgmlTypeOf(cacheTypes.Keys),
            TypeV = GgmlTypeOf(cacheTypes.Values),
        };
        if (cacheTypes.Values is not (KvElementType.F16 or KvElementType.F32))
            p.FlashAttention = true;
        LlamaCppNative.TakeAttentionLog();
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
        Settings = string.Join("; ", LlamaCppNative.TakeAttentionLog());
    }

    /// <summary>What llama.cpp logged about flash attention and the KV cache types when the context was made.</summary>
    public string Settings { get; }

    public int VocabSize => _weights.Vocab.Count;

    /// <summary>ggml's type for a Frugal KV element type (the same block layouts).</summary>
    public static GGMLType GgmlTypeOf(KvElementType type) => type switch
    {
        KvElementType.F16 => GGMLType.GGML_TYPE_F16,
        KvElementType.F32 => GGMLType.GGML_TYPE_F32,
        KvElementType.Q8_0 => GGMLType.GGML_TYPE_Q8_0,
        KvElementType.Q4_0 => GGMLType.GGML_TYPE_Q4_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown KV element type"),
    };

    public RoundTiming Measure()
    {
        var handle = _context.NativeHandle;
        handle.MemoryClear(true);
        for (int at = 0; at < _depth.Length; at += PrefillDecodeRound.DepthChunkTokens)
        {
            _batch.Clear();
            int end = Math.Min(_depth.Length, at + PrefillDecodeRound.DepthChunkTokens);
            for (int i = at; i < end; i++)
                _batch.Add(_depth[i], i, (LLamaSeqId)0, i == end - 1);
            Decode(handle);
        }
        int d = _depth.Length;
        _batch.Clear();
        for (int i = 0; i < _prompt.Length; i++)
            _batch.Add(_prompt[i], d + i, (LLamaSeqId)0, i == _prompt.Length - 1);
        long start = Stopwatch.GetTimestamp();
        Decode(handle);
        var prefill = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < _decode.Length; i++)
        {
            _batch.Clear();
            _batch.Add(_decode[i], d + _prompt.Length + i, (LLamaSeqId)0, true);
            Decode(handle);
        }
        var decode = Stopwatch.GetElapsedTime(start);
        return new RoundTiming(prefill, decode);
    }

    private void Decode(SafeLLamaContextHandle handle)
    {
        var result = handle.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode failed: {result}");
        handle.Synchronize();
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }
}
