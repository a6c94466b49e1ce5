using System.Diagnostics;
using System.Globalization;
using Frugal.Evaluation;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;
using Frugal.Tokenization;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Frugal.Bench;

/// <summary>
/// The quality cost of a quantized KV cache in Frugal and in llama.cpp (LLamaSharp 0.30.0) on the same file and the
/// same windows: llama.cpp's perplexity protocol (<see cref="PerplexityWindows"/>: windows of n_ctx from an empty
/// cache, BOS over the first token, the second half scored), every window evaluated by both engines with K and V in
/// each type, and per engine and type the perplexity and, against the same engine's f16 run of the same window, the
/// mean KL divergence and the share of positions whose top token is unchanged (llama.cpp's --kl-divergence figures).
/// The tokens are Frugal's (a test checks they equal llama.cpp's for the built-in model), so both engines score
/// exactly the same positions. llama.cpp runs with flash attention on: it needs it for a quantized V cache, and it
/// is what "auto" resolves to on the CPU. KIVI types (kivi2, kivi4) run in Frugal only.
/// </summary>
internal static class KvQuality
{
    public sealed record Options(string Model, string Text, int Context, int Threads, IReadOnlyList<KvElementType> Types);

    /// <summary>One engine with one K/V type: fills [n_ctx, vocab] logits for a window, from an empty cache.</summary>
    private sealed class EngineRun(string engine, KvElementType type, Action<int[], float[]> evaluate)
    {
        public string Engine { get; } = engine;
        public KvElementType Type { get; } = type;
        public Action<int[], float[]> Evaluate { get; } = evaluate;
        public RunningMean Nll;
        public RunningMean Kld;
        public int SameTop;
        public int Scored;
    }

    public static void Run(Options o)
    {
        LlamaCppNative.EnsureLoaded();
        ComputeTeam.ConfigureDefault(o.Threads);
        var types = o.Types.Contains(KvElementType.F16) ? o.Types.ToList() : [KvElementType.F16, .. o.Types];
        types.Sort((a, b) => (a != KvElementType.F16).CompareTo(b != KvElementType.F16)); // f16, the base, first

        Tokenizer tokenizer;
        using (var gguf = GgufFile.Open(o.Model)) tokenizer = Tokenizer.FromGguf(gguf);
        int[] tokens = WindowedPerplexity.Tokenize(tokenizer, File.ReadAllText(o.Text));
        var windows = new PerplexityWindows(tokens, o.Context, o.Context, tokenizer.AddBos ? tokenizer.BosId : null);
        using var model = ModelLoader.Load(o.Model);
        int vocab = model.Config.VocabSize;
        using var weights = LLamaWeights.LoadFromFile(LlamaParams(o, KvElementType.F16));
        if (weights.Vocab.Count != vocab) throw new InvalidOperationException($"vocabularies differ: frugal {vocab}, llama.cpp {weights.Vocab.Count}");

        var contexts = new List<LLamaContext>();
        var runs = new List<EngineRun>();
        foreach (var type in types)
        {
            var cache = model.CreateCache(o.Context, new KvCacheTypes(type, type));
            runs.Add(new EngineRun("frugal", type, (window, logits) =>
            {
                cache.Truncate(0);
                model.Forward(window, cache, logits, allLogits: true);
            }));
        }
        foreach (var type in types.Where(t => !KvElementTypes.IsKivi(t)))   // llama.cpp has no KIVI cache type
        {
            LlamaCppNative.TakeAttentionLog();
            var context = weights.CreateContext(LlamaParams(o, type));
            contexts.Add(context);
            Console.WriteLine($"llama.cpp K/V {KvElementTypes.Name(type)}: {string.Join("; ", LlamaCppNative.TakeAttentionLog())}");
            runs.Add(new EngineRun("llama.cpp", type, (window, logits) => LlamaLogits(context, window, logits, vocab)));
        }

        Console.WriteLine($"kv-quality: {Path.GetFileName(o.Model)}, {Path.GetFileName(o.Text)}: {tokens.Length} tokens, {windows.Count} windows of {o.Context}, " +
                          $"{windows.ScoredPerWindow} scored per window, -t {o.Threads}");
        var started = Stopwatch.StartNew();
        var window = new int[o.Context];
        var logits = new float[o.Context * vocab];                    // [n_ctx, vocab] of one run
        var baseLogProbs = new float[windows.ScoredPerWindow * vocab];  // [scored, vocab] of the engine's f16 run
        var logProbs = new float[vocab];
        var scratch = new float[vocab];
        for (int w = 0; w < windows.Count; w++)
        {
            int start = w * o.Context;
            for (int i = 0; i < o.Context; i++) window[i] = tokens[start + i];
            if (windows.Bos is { } bos) window[0] = bos;
            foreach (var run in runs)
            {
                run.Evaluate(window, logits);
                bool isBase = run.Type == KvElementType.F16;
                for (int p = windows.FirstScored, s = 0; p < o.Context - 1; p++, s++)
                {
                    var row = logits.AsSpan(p * vocab, vocab);
                    run.Nll.Add(-LogProbabilities.Of(row, tokens[start + p + 1], scratch));
                    var reference = baseLogProbs.AsSpan(s * vocab, vocab);
                    if (isBase)
                    {
                        LogProbabilities.Compute(row, reference, scratch);
                        continue;
                    }
                    LogProbabilities.Compute(row, logProbs, scratch);
                    double kld = 0;
                    for (int i = 0; i < vocab; i++) kld += Math.Exp(reference[i]) * (reference[i] - logProbs[i]);
                    run.Kld.Add(kld);
                    if (ArgMax(reference) == ArgMax(logProbs)) run.SameTop++;
                    run.Scored++;
                }
            }
            Console.Write($"[{w + 1}]");
        }
        Console.WriteLine();
        foreach (var c in contexts) c.Dispose();
        Console.WriteLine($"{runs[0].Nll.Count} tokens scored per run in {started.Elapsed.TotalSeconds:F1} s; KLD and same top against the same engine's f16 run");
        Console.WriteLine();
        Console.WriteLine("| engine | K/V | PPL | ΔPPL vs f16 | mean KLD vs f16 | same top vs f16 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var run in runs)
        {
            double ppl = Math.Exp(run.Nll.Mean), error = run.Nll.StandardError * ppl;
            double basePpl = Math.Exp(runs.First(r => r.Engine == run.Engine && r.Type == KvElementType.F16).Nll.Mean);
            bool isBase = run.Type == KvElementType.F16;
            double same = run.Scored == 0 ? 1 : (double)run.SameTop / run.Scored;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Engine} | {KvElementTypes.Name(run.Type)} | {ppl:F4} ± {error:F4} | {(isBase ? "" : $"{(ppl / basePpl - 1) * 100:+0.000;-0.000}%")} | " +
                $"{(isBase ? "" : $"{run.Kld.Mean:F6} ± {run.Kld.StandardError:F6}")} | " +
                $"{(isBase ? "" : $"{same * 100:F2} ± {Math.Sqrt(same * (1 - same) / Math.Max(1, run.Scored - 1)) * 100:F2}%")} |"));
        }
    }

    private static ModelParams LlamaParams(Options o, KvElementType type) => new(o.Model)
    {
        ContextSize = (uint)o.Context,
        BatchSize = (uint)o.Context,
        UBatchSize = (uint)o.Context,
        Threads = o.Threads,
        BatchThreads = o.Threads,
        GpuLayerCount = 0,
        TypeK = LlamaCppRound.GgmlTypeOf(type),
        TypeV = LlamaCppRound.GgmlTypeOf(type),
        FlashAttention = true,
    };

    /// <summary>The window in one llama_decode from an empty cache, logits of every position.</summary>
    private static void LlamaLogits(LLamaContext context, int[] window, float[] logits, int vocab)
    {
        var handle = context.NativeHandle;
        handle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < window.Length; i++) batch.Add(window[i], i, (LLamaSeqId)0, true);
        var result = handle.Decode(batch);
        if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {result}");
        for (int i = 0; i < window.Length; i++) handle.GetLogitsIth(i).CopyTo(logits.AsSpan(i * vocab, vocab));
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }
}
