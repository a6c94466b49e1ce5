using LLama;
using LLama.Common;
using LLama.Native;

namespace Frugal.Bench;

/// <summary>
/// llama.cpp's side of serving-parity: logits at every position of one sequence, and greedy continuations, with the
/// K/V cache in F16 (llama.cpp's default, and llama-server's) and flash attention as asked (null: llama.cpp's auto).
/// </summary>
internal sealed class LlamaCppReference : IDisposable
{
    /// <summary>Tokens per llama_decode call when every position's logits are wanted (llama.cpp's default n_batch).</summary>
    private const int DecodeChunk = 512;

    private readonly LLamaWeights _weights;
    private readonly int _threads;
    private readonly bool? _flashAttention;

    public LlamaCppReference(string path, int threads, bool? flashAttention)
    {
        LlamaCppNative.EnsureLoaded();
        _threads = threads;
        _flashAttention = flashAttention;
        _weights = LLamaWeights.LoadFromFile(Parameters(path, 512));
        Path = path;
    }

    public string Path { get; }

    public int VocabSize => _weights.Vocab.Count;

    /// <summary>
    /// Evaluates <paramref name="tokens"/> from position 0 as a prompt of <paramref name="promptLength"/> tokens and then
    /// a continuation, each in llama_decode calls of up to 512 tokens with logits at every position; returns
    /// [tokens, vocab].
    /// </summary>
    public float[] Logits(int[] tokens, int promptLength)
    {
        int vocab = VocabSize;
        var result = new float[(long)tokens.Length * vocab];
        using var context = _weights.CreateContext(Parameters(Path, tokens.Length));
        var batch = new LLamaBatch();
        foreach (var (from, to) in new[] { (0, promptLength), (promptLength, tokens.Length) })
        {
            for (int start = from; start < to; start += DecodeChunk)
            {
                int end = Math.Min(to, start + DecodeChunk);
                batch.Clear();
                for (int i = start; i < end; i++)
                    batch.Add(tokens[i], i, (LLamaSeqId)0, true);
                Decode(context, batch);
                for (int i = start; i < end; i++)
                    context.NativeHandle.GetLogitsIth(i - start).CopyTo(result.AsSpan((int)((long)i * vocab), vocab));
            }
        }
        return result;
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/>, run alone, with the top-2 logit margin at every step.</summary>
    public (int[] Tokens, float[] Margins) Greedy(int[] prompt, int count)
    {
        using var context = _weights.CreateContext(Parameters(Path, prompt.Length + count));
        var batch = new LLamaBatch();
        for (int start = 0; start < prompt.Length; start += DecodeChunk)
        {
            int end = Math.Min(prompt.Length, start + DecodeChunk);
            batch.Clear();
            for (int i = start; i < end; i++)
                batch.Add(prompt[i], i, (LLamaSeqId)0, i == prompt.Length - 1);
            Decode(context, batch);
        }
        var tokens = new int[count];
        var margins = new float[count];
        for (int t = 0; t < count; t++)
        {
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            (tokens[t], margins[t]) = Top(logits);
            if (t == count - 1) break;
            batch.Clear();
            batch.Add(tokens[t], prompt.Length + t, (LLamaSeqId)0, true);
            Decode(context, batch);
        }
        return (tokens, margins);
    }

    /// <summary>The argmax and its lead over the runner-up.</summary>
    public static (int Token, float Margin) Top(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (v > first) { second = first; first = v; best = i; }
            else if (v > second) second = v;
        }
        return (best, first - second);
    }

    private ModelParams Parameters(string path, int context) => new(path)
    {
        ContextSize = (uint)context,
        BatchSize = DecodeChunk,
        UBatchSize = DecodeChunk,
        Threads = _threads,
        BatchThreads = _threads,
        GpuLayerCount = 0,
        TypeK = GGMLType.GGML_TYPE_F16,
        TypeV = GGMLType.GGML_TYPE_F16,
        FlashAttention = _flashAttention,
    };

    private static void Decode(LLamaContext context, LLamaBatch batch)
    {
        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode failed: {result}");
    }

    public void Dispose() => _weights.Dispose();
}
