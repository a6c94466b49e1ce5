using LLama;
using LLama.Common;
using LLama.Native;

namespace Frugal.Tests.Oracle;

/// <summary>
/// A GGUF model run by llama.cpp (through LLamaSharp), the reference the engine's logits are compared with.
/// By default keys and values are cached in F32 and flash attention is off, so that llama.cpp's own rounding (an F16
/// KV cache) does not blur the comparison of the forward pass itself; the serving-path tests ask for llama.cpp's
/// default F16 cache instead, the configuration a server runs.
/// </summary>
public sealed class LlamaCppModel : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    private LlamaCppModel(LLamaWeights weights, ModelParams parameters)
    {
        _weights = weights;
        _params = parameters;
    }

    public static LlamaCppModel Load(string path, uint contextSize = 256, GGMLType kvType = GGMLType.GGML_TYPE_F32)
    {
        LlamaCppRuntime.EnsureLoaded();
        var p = new ModelParams(path)
        {
            ContextSize = contextSize,
            BatchSize = contextSize,
            UBatchSize = contextSize,
            Threads = 2,
            BatchThreads = 2,
            GpuLayerCount = 0,
            TypeK = kvType,
            TypeV = kvType,
            FlashAttention = false,
        };
        return new LlamaCppModel(LLamaWeights.LoadFromFile(p), p);
    }

    public int VocabSize => _weights.Vocab.Count;

    /// <summary>
    /// Evaluates <paramref name="tokens"/> from position 0 in one batch (or, with <paramref name="tokensPerDecode"/>,
    /// in consecutive llama_decode calls of that many tokens); returns [tokens, vocab] logits.
    /// </summary>
    public float[] Logits(IReadOnlyList<int> tokens, int tokensPerDecode = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerDecode, 1);
        using var context = _weights.CreateContext(_params);
        int vocab = VocabSize;
        var result = new float[tokens.Count * vocab];
        for (int start = 0; start < tokens.Count; start += tokensPerDecode)
        {
            int end = (int)Math.Min(tokens.Count, (long)start + tokensPerDecode);
            var batch = new LLamaBatch();
            for (int i = start; i < end; i++)
                batch.Add(tokens[i], i, (LLamaSeqId)0, true);
            Decode(context, batch);
            for (int i = start; i < end; i++)
                context.NativeHandle.GetLogitsIth(i - start).CopyTo(result.AsSpan(i * vocab, vocab));
        }
        return result;
    }

    /// <summary>Greedy (argmax) continuation of <paramref name="prompt"/> by <paramref name="count"/> tokens.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count) => GreedyWithMargins(prompt, count).Tokens;

    /// <summary>
    /// Greedy continuation, with the top-2 logit margin of every step: where it is tiny, another engine's rounding may
    /// legitimately pick the other token.
    /// </summary>
    public (int[] Tokens, float[] Margins) GreedyWithMargins(IReadOnlyList<int> prompt, int count)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++)
            batch.Add(prompt[i], i, (LLamaSeqId)0, i == prompt.Count - 1);
        Decode(context, batch);
        var output = new int[count];
        var margins = new float[count];
        int position = prompt.Count;
        for (int t = 0; t < count; t++)
        {
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            output[t] = ArgMax(logits);
            margins[t] = Models.LogitComparison.TopTwoMargin(logits);
            batch.Clear();
            batch.Add(output[t], position++, (LLamaSeqId)0, true);
            Decode(context, batch);
        }
        return (output, margins);
    }

    /// <summary>Quantizes a GGUF file with llama.cpp's own quantizer (the reference for quantized parity).</summary>
    public static void Quantize(string source, string destination, LLamaFtype type)
    {
        LlamaCppRuntime.EnsureLoaded();
        if (!LLamaQuantizer.Quantize(source, destination, type, nthread: 2, allowRequantize: true, quantizeOutputTensor: false))
            throw new InvalidOperationException($"llama.cpp could not quantize '{source}' to {type}");
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode failed: {result}");
    }

    public void Dispose() => _weights.Dispose();
}
