using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using Frugal.Inference.Benchmarking;

namespace Frugal.Bench;

/// <summary>
/// llama.cpp's side of a side-by-side round, with Frugal's protocol (<see cref="PrefillDecodeRound"/>): the prompt in
/// one llama_decode batch (logits of the last token only, as llama-bench), then one llama_decode per decoded token,
/// each followed by llama_synchronize. Threads and batch threads are both the requested count; the KV cache type and
/// flash attention stay at llama.cpp's defaults, as llama-bench runs them.
/// </summary>
internal sealed class LlamaCppRound : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private readonly int[] _prompt;
    private readonly int[] _decode;

    public LlamaCppRound(string path, int[] prompt, int[] decode, int threads)
    {
        _prompt = prompt;
        _decode = decode;
        var p = new ModelParams(path)
        {
            ContextSize = (uint)(prompt.Length + decode.Length),
            BatchSize = (uint)Math.Max(prompt.Length, 2048),  // llama-bench's n_batch 2048 / n_ubatch 512
            UBatchSize = (uint)Math.Max(prompt.Length, 512),  // a batch of p tokens is one ubatch: one graph
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _context = _weights.CreateContext(p);
    }

    public int VocabSize => _weights.Vocab.Count;

    public RoundTiming Measure()
    {
        var handle = _context.NativeHandle;
        handle.MemoryClear(true);
        _batch.Clear();
        for (int i = 0; i < _prompt.Length; i++)
            _batch.Add(_prompt[i], i, (LLamaSeqId)0, i == _prompt.Length - 1);
        long start = Stopwatch.GetTimestamp();
        Decode(handle);
        var prefill = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        for (int i = 0; i < _decode.Length; i++)
        {
            _batch.Clear();
            _batch.Add(_decode[i], _prompt.Length + i, (LLamaSeqId)0, true);
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
