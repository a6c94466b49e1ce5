using System.Diagnostics;
using System.Globalization;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Numerics.Threading;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// The serving path against llama.cpp (F16 K/V on llama.cpp's side) on one file, two checks:
/// 1. logits at every position of one random-token sequence of past + extra tokens, a prompt of --prompt tokens from
///    position 0 and then a continuation that reaches past position --past, through the batched paged forward
///    (<see cref="LaneChunks"/>), against llama.cpp's all-logits decode of the same tokens; per-window and
///    per-phase worst cosine and max |diff|.
/// 2. --requests greedy requests submitted together to <see cref="InferenceEngine"/> (continuous batching, chunked
///    prefill), prompts of different lengths up to --prompt, against llama.cpp's greedy continuation of each prompt run
///    alone, token for token.
/// The short versions are in the test suite (PagedForwardParityTests, ServerGreedyParityTests).
/// </summary>
internal static class ServingParity
{
    public sealed record Options(string File, int Prompt, int Past, int Extra, int Lanes, int Threads, bool? FlashAttention,
        int Requests, int GreedyTokens, int Seed, string? Dump, bool SkipLogits = false, bool Alone = false);

    private const double CosineBar = 0.9999;
    private const int Window = 256;

    /// <summary>What the rows returned for one position showed (the worst of them where several lanes returned it).</summary>
    private struct PositionResult
    {
        public int Rows;
        public double Cosine;
        public float MaxAbsDiff;
        public bool ArgMaxAgrees;
        public float ReferenceMargin;
    }

    public static void Run(Options o)
    {
        ComputeTeam.ConfigureDefault(o.Threads);
        int length = o.Past + o.Extra;
        string fa = o.FlashAttention switch { null => "auto", true => "on", false => "off" };
        Console.WriteLine($"serving-parity: {Path.GetFileName(o.File)} --prompt {o.Prompt} --past {o.Past} --extra {o.Extra} (sequence of {length} tokens) " +
                          $"--lanes {o.Lanes} -t {o.Threads} --flash-attn {fa} --requests {o.Requests} -n {o.GreedyTokens} --seed {o.Seed}; load average {LoadAverage()}");
        Tokenizer tokenizer;
        using (var gguf = GgufFile.Open(o.File)) tokenizer = Tokenizer.FromGguf(gguf);
        var rng = new Random(o.Seed);
        var candidates = Enumerable.Range(0, tokenizer.VocabSize)
            .Where(id => (tokenizer.GetAttributes(id) & (TokenAttributes.Normal | TokenAttributes.Byte)) != 0).ToArray();
        int[] RandomTokens(int count)
        {
            var t = new int[count];
            for (int i = 0; i < count; i++) t[i] = candidates[rng.Next(candidates.Length)];
            if (tokenizer.AddBos && tokenizer.BosId is int bos) t[0] = bos;
            return t;
        }
        var sequence = RandomTokens(length);
        var prompts = Enumerable.Range(0, o.Requests)
            .Select(i => RandomTokens(16 + (o.Requests == 1 ? 0 : i * (o.Prompt - 16) / (o.Requests - 1)))).ToArray();

        float[]? reference; // [length, vocab], 1.3 GB for the Qwen shape
        (int[] Tokens, float[] Margins)[] expected;
        var clock = Stopwatch.StartNew();
        using (var llama = new LlamaCppReference(o.File, o.Threads, o.FlashAttention))
        {
            reference = o.SkipLogits ? null : llama.Logits(sequence, o.Prompt);
            if (!o.SkipLogits)
                Console.WriteLine($"llama.cpp: logits at all {length} positions (prompt, then continuation, in decodes of <= 512 tokens) in {clock.Elapsed.TotalSeconds:F1} s");
            clock.Restart();
            expected = prompts.Select(p => llama.Greedy(p, o.GreedyTokens)).ToArray();
            Console.WriteLine($"llama.cpp: {o.Requests} greedy continuations of {o.GreedyTokens} tokens, each prompt alone, in {clock.Elapsed.TotalSeconds:F1} s");
        }

        using var model = (IBatchedLanguageModel)ModelLoader.Load(o.File);
        if (reference is not null) CompareLogits(model, sequence, reference, o);
        reference = null;
        GC.Collect();
        if (o.Requests > 0) Greedy(model, tokenizer, prompts, expected, o);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    private static void CompareLogits(IBatchedLanguageModel model, int[] sequence, float[] reference, Options o)
    {
        int length = sequence.Length;
        int vocab = model.Config.VocabSize;
        var results = new PositionResult[length];
        double sumSquares = 0, count = 0;
        float largest = 0;
        var info = LaneChunks.Run(model, sequence, o.Prompt, o.Lanes, o.Seed, (p, row) =>
        {
            var e = reference.AsSpan((int)((long)p * vocab), vocab);
            double cos = Cosine(e, row);
            float diff = MaxAbsDiff(e, row);
            var (want, margin) = LlamaCppReference.Top(e);
            bool agrees = LlamaCppReference.Top(row).Token == want;
            sumSquares += System.Numerics.Tensors.TensorPrimitives.Dot(e, e);
            count += vocab;
            largest = Math.Max(largest, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(e));
            ref var r = ref results[p];
            r.Cosine = r.Rows == 0 ? cos : Math.Min(r.Cosine, cos);
            r.MaxAbsDiff = Math.Max(r.MaxAbsDiff, diff);
            r.ArgMaxAgrees = (r.Rows == 0 || r.ArgMaxAgrees) && agrees;
            r.ReferenceMargin = margin;
            r.Rows++;
        });
        Console.WriteLine($"frugal: ForwardBatch over a paged store, {o.Lanes} lanes with shuffled block tables (blocks of {LaneChunks.BlockSize}): " +
                          $"{info.Steps} steps, {info.Tokens} tokens; prompt {info.PromptTime.TotalSeconds:F1} s, continuation {info.ContinuationTime.TotalSeconds:F1} s");
        if (results.Any(r => r.Rows == 0)) throw new InvalidOperationException("a position got no logits row");
        ReportLogits(results, o);
        Console.WriteLine($"scale: llama.cpp's logits have rms {Math.Sqrt(sumSquares / count):G4} and |logit| up to {largest:G4}");
        if (o.Dump is not null) Dump(results, o.Dump);
    }

    private static void ReportLogits(PositionResult[] results, Options o)
    {
        int length = results.Length;
        var cuts = Enumerable.Range(0, (length + Window - 1) / Window).Select(i => i * Window)
            .Concat([o.Prompt, o.Past, length]).Where(c => c <= length).Distinct().Order().ToList();
        Console.WriteLine();
        Console.WriteLine($"{"positions",-14} {"rows",5}  {"worst cosine",-22} {"mean cosine",-11} {"max |diff|",-10} argmax agrees (llama.cpp's smallest top-2 margin where not)");
        for (int w = 0; w + 1 < cuts.Count; w++)
            Console.WriteLine(Line($"[{cuts[w]}, {cuts[w + 1]})", results, cuts[w], cuts[w + 1]));
        Console.WriteLine();
        Console.WriteLine(Line($"prompt [0, {o.Prompt})", results, 0, o.Prompt));
        Console.WriteLine(Line($"continuation [{o.Prompt}, {o.Past})", results, o.Prompt, o.Past));
        Console.WriteLine(Line($"past {o.Past} [{o.Past}, {length})", results, o.Past, length));
        double worst = results.Min(r => r.Cosine);
        Console.WriteLine($"all {length} positions: worst cosine {worst:F7}, max |diff| {results.Max(r => r.MaxAbsDiff):G4}; " +
                          $"bar cosine >= {CosineBar}: {(worst >= CosineBar ? "met" : "NOT met")}");
    }

    private static string Line(string label, PositionResult[] results, int from, int to)
    {
        var span = results.AsSpan(from, to - from);
        int worstAt = from;
        double sum = 0;
        float diff = 0, tightest = float.PositiveInfinity;
        int agree = 0, rows = 0;
        for (int i = 0; i < span.Length; i++)
        {
            if (span[i].Cosine < results[worstAt].Cosine) worstAt = from + i;
            sum += span[i].Cosine;
            diff = Math.Max(diff, span[i].MaxAbsDiff);
            rows += span[i].Rows;
            if (span[i].ArgMaxAgrees) agree++;
            else tightest = Math.Min(tightest, span[i].ReferenceMargin);
        }
        string disagree = agree == span.Length ? "" : $" ({tightest:G3})";
        return $"{label,-14} {rows,5}  {results[worstAt].Cosine:F7} at {worstAt,-9} {sum / span.Length:F8}  {diff,-10:G4} {agree}/{span.Length}{disagree}";
    }

    private static void Greedy(IBatchedLanguageModel model, Tokenizer tokenizer, int[][] prompts, (int[] Tokens, float[] Margins)[] expected, Options o)
    {
        Console.WriteLine();
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions
        {
            ContextLength = prompts.Max(p => p.Length) + o.GreedyTokens + 1,
            MaxRunningSequences = o.Requests,
        });
        var clock = Stopwatch.StartNew();
        // Top-2 logprobs give Frugal's own margin where the tokens differ (a logprob gap is a logit gap).
        var streams = prompts.Select(p => engine.Submit(new EngineRequest
        {
            PromptTokens = p, MaxTokens = o.GreedyTokens, Sampling = SamplingOptions.Greedy, Logprobs = true, TopLogprobs = 2,
        })).ToArray();
        var completions = Task.WhenAll(streams.Select(s => s.CompleteAsync())).GetAwaiter().GetResult();
        Console.WriteLine($"frugal: {o.Requests} greedy requests submitted together to InferenceEngine (max {engine.Options.MaxTokensPerStep} tokens per step): " +
                          $"{engine.Metrics.Steps} steps in {clock.Elapsed.TotalSeconds:F1} s");
        int equal = 0, total = 0, identical = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var (want, margins) = expected[i];
            int end = Array.FindIndex(want, tokenizer.IsEndOfGeneration);
            if (end < 0) end = want.Length;
            var got = completions[i].Tokens;
            int t = 0;
            while (t < end && t < got.Count && got[t].TokenId == want[t]) t++;
            equal += t;
            total += end;
            string verdict;
            if (t == end && got.Count == end)
            {
                identical++;
                verdict = $"{end}/{end} tokens equal (smallest llama.cpp top-2 margin {margins.Take(end).DefaultIfEmpty(0).Min():G3})";
            }
            else if (t < got.Count && t < end)
            {
                var top = got[t].TopLogprobs!;
                float ours = top.Count > 1 ? top[0].Logprob - top[1].Logprob : float.NaN;
                verdict = $"first {t} tokens equal; token {t}: llama.cpp {want[t]} (top-2 margin {margins[t]:G3}), frugal {got[t].TokenId} (top-2 margin {ours:G3})";
            }
            else verdict = $"first {t} tokens equal; then frugal gave {got.Count} tokens, llama.cpp {end} (end of generation)";
            Console.WriteLine($"  request {i}: prompt {prompts[i].Length,4} tokens: {verdict}");
        }
        Console.WriteLine($"greedy: {identical}/{prompts.Length} requests token for token; {equal}/{total} tokens before the first difference");
        if (o.Alone) Alone(model, tokenizer, prompts, completions, o);
    }

    /// <summary>
    /// Each request again, alone in a fresh engine (no other sequence in its steps, no prefix cache): where its tokens
    /// equal those it got among the others, batching and paging did not change the result, and a difference from
    /// llama.cpp comes from the forward pass's own rounding.
    /// </summary>
    private static void Alone(IBatchedLanguageModel model, Tokenizer tokenizer, int[][] prompts, EngineCompletion[] together, Options o)
    {
        var clock = Stopwatch.StartNew();
        int same = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            using var engine = new InferenceEngine(model, tokenizer, new EngineOptions { ContextLength = prompts[i].Length + o.GreedyTokens + 1, MaxRunningSequences = 1 });
            var alone = engine.Submit(new EngineRequest { PromptTokens = prompts[i], MaxTokens = o.GreedyTokens, Sampling = SamplingOptions.Greedy })
                .CompleteAsync().GetAwaiter().GetResult().Tokens.Select(t => t.TokenId).ToArray();
            var with = together[i].Tokens.Select(t => t.TokenId).ToArray();
            int t = 0;
            while (t < alone.Length && t < with.Length && alone[t] == with[t]) t++;
            if (t == alone.Length && t == with.Length) same++;
            else Console.WriteLine($"  request {i} alone: first {t} tokens equal to its tokens among the others, then {(t < alone.Length ? alone[t] : -1)} vs {(t < with.Length ? with[t] : -1)}");
        }
        Console.WriteLine($"frugal alone: {same}/{prompts.Length} requests give the same tokens alone (a fresh engine each) as together ({clock.Elapsed.TotalSeconds:F1} s)");
    }

    private static void Dump(PositionResult[] results, string path)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("position,rows,cosine,max_abs_diff,argmax_agrees,llama_cpp_top2_margin");
        for (int p = 0; p < results.Length; p++)
        {
            var r = results[p];
            w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p},{r.Rows},{r.Cosine:F9},{r.MaxAbsDiff:G6},{(r.ArgMaxAgrees ? 1 : 0)},{r.ReferenceMargin:G6}"));
        }
        Console.WriteLine($"per-position numbers written to {path}");
    }

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    private static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
