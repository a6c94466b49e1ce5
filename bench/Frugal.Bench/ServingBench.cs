using System.Diagnostics;
using Frugal.Gguf;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Numerics.Threading;
using Frugal.Tokenization;

namespace Frugal.Bench;

/// <summary>
/// The serving engine (<see cref="InferenceEngine"/>) on one GGUF file, two measurements:
/// 1. aggregate decode throughput of 1 stream vs N concurrent greedy streams with same-length short prompts. Every
///    generated token is time-stamped when the reader receives it. A stream's decode rate is its tokens after the first
///    divided by the time from its first token (prefill done) to its last; the aggregate is the sum over the streams,
///    whose decode intervals overlap (they differ by the one or two steps it takes all requests to join).
/// 2. prefix reuse: a request with a fixed ~500-token system prompt plus a question, then one with the same system
///    prompt and another question; time to first token (Submit to first token received) of each, their ratio, and
///    the engine's prefix-cache counters before and after.
/// </summary>
internal static class ServingBench
{
    public sealed record Options(string File, int Decode, int Streams, int Threads, int PrefixTokens);

    private const int ShortPrompt = 16;

    // Any fixed English text; repeated and cut to the wanted number of tokens.
    private const string SystemText =
        "You are a careful assistant for a small library. Answer questions about opening hours, loans, renewals, " +
        "fines, reading rooms, printing, study spaces, events for children, and the local history archive. Be brief, " +
        "be polite, and when you do not know something say so plainly and suggest asking the front desk. ";

    private sealed record StreamResult(List<long> Stamps, EngineFinished Finished);

    public static void Run(Options o)
    {
        ComputeTeam.ConfigureDefault(o.Threads);
        Console.WriteLine($"serving: {Path.GetFileName(o.File)} -n {o.Decode} --streams {o.Streams} -t {o.Threads} --prefix {o.PrefixTokens}; load average {LoadAverage()}");
        Tokenizer tokenizer;
        using (var gguf = GgufFile.Open(o.File)) tokenizer = Tokenizer.FromGguf(gguf);
        using var model = ModelLoader.Load(o.File);
        int context = Math.Min(model.Config.ContextLength, Math.Max(1024, o.PrefixTokens + o.Decode + 64));
        using var engine = new InferenceEngine(model, tokenizer, new EngineOptions
        {
            ContextLength = context,
            MaxRunningSequences = o.Streams,
        });

        // Warm-up: page in the mapped weights and let the JIT tier up; untimed.
        RunStreams(engine, [Prompt(tokenizer, 99)], 4);

        Console.WriteLine();
        Console.WriteLine($"decode throughput ({ShortPrompt}-token prompts, greedy, max {o.Decode} tokens each):");
        double single = Throughput(engine, tokenizer, 1, o.Decode);
        double many = Throughput(engine, tokenizer, o.Streams, o.Decode);
        Console.WriteLine($"  ratio {o.Streams} streams / 1 stream: {many / single:F2}x");

        Console.WriteLine();
        Console.WriteLine("prefix reuse:");
        PrefixReuse(engine, tokenizer, o.PrefixTokens);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    private static double Throughput(InferenceEngine engine, Tokenizer tokenizer, int streams, int decode)
    {
        var prompts = Enumerable.Range(0, streams).Select(i => Prompt(tokenizer, i)).ToArray();
        long steps0 = engine.Metrics.Steps;
        long submitted = Stopwatch.GetTimestamp();
        var results = RunStreams(engine, prompts, decode);
        long steps = engine.Metrics.Steps - steps0;
        // Each stream's decode rate: its tokens after the first / the time from its first token to its last. The engine
        // may start stepping before every request is queued, so streams can join a step or two apart; their decode
        // intervals still overlap almost whole, and the sum of their rates is the aggregate decode rate. Taking each
        // stream's own first and last token keeps a reader thread that woke late (2 busy cores) from moving the window.
        double rate = results.Where(r => r.Stamps.Count > 1).Sum(r => (r.Stamps.Count - 1) / Stopwatch.GetElapsedTime(r.Stamps[0], r.Stamps[^1]).TotalSeconds);
        // The plain wall-clock figure, for comparison: from the last stream's first token to the last token of all.
        long start = results.Max(r => r.Stamps[0]);
        long end = results.Max(r => r.Stamps[^1]);
        int decodeTokens = results.Sum(r => r.Stamps.Count - 1);
        double wall = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        double stepMs = results.Where(r => r.Stamps.Count > 1).DefaultIfEmpty(results[0]).Average(r => r.Stamps.Count < 2 ? 0 : Stopwatch.GetElapsedTime(r.Stamps[0], r.Stamps[^1]).TotalMilliseconds / (r.Stamps.Count - 1));
        Console.WriteLine($"  {streams,2} stream(s): {results.Sum(r => r.Stamps.Count)} tokens in {steps} engine steps (per stream {string.Join(',', results.Select(r => r.Finished.CompletionTokens))}), " +
                          $"submit to last first token {Stopwatch.GetElapsedTime(submitted, start).TotalSeconds:F2} s; " +
                          $"decode {decodeTokens} tokens, {rate:F2} tok/s aggregate (sum of per-stream rates), {stepMs:F0} ms per decode step; " +
                          $"wall {wall:F2} s from last first token to last token");
        return rate;
    }

    private static void PrefixReuse(InferenceEngine engine, Tokenizer tokenizer, int prefixTokens)
    {
        var system = SystemPrompt(tokenizer, prefixTokens);
        var m = engine.Metrics;
        Console.WriteLine($"  system prompt: {system.Length} tokens; prefix cache before: hits {m.PrefixCacheHits}, hit tokens {m.PrefixCacheHitTokens}");
        int[] prompt1 = [.. system, .. tokenizer.Encode("Question: when does the library open on Sundays?", addSpecial: false)];
        int[] prompt2 = [.. system, .. tokenizer.Encode("Question: can I renew a loan by phone?", addSpecial: false)];
        int shared = 0;
        while (shared < Math.Min(prompt1.Length, prompt2.Length) && prompt1[shared] == prompt2[shared]) shared++;
        Console.WriteLine($"  the two prompts share their first {shared} tokens (block size {engine.Options.BlockSize})");
        var first = TimeToFirstToken(engine, prompt1);
        long hits = m.PrefixCacheHits, hitTokens = m.PrefixCacheHitTokens;
        Console.WriteLine($"  request 1: prompt {first.Finished.PromptTokens} tokens, cached {first.Finished.CachedPromptTokens}, time to first token {first.Ttft * 1000:F0} ms; prefix cache: hits {hits}, hit tokens {hitTokens}");
        var second = TimeToFirstToken(engine, prompt2);
        Console.WriteLine($"  request 2: prompt {second.Finished.PromptTokens} tokens, cached {second.Finished.CachedPromptTokens}, time to first token {second.Ttft * 1000:F0} ms; prefix cache: hits {m.PrefixCacheHits}, hit tokens {m.PrefixCacheHitTokens}");
        Console.WriteLine($"  time to first token, second / first: {second.Ttft / first.Ttft:F3} ({first.Ttft / second.Ttft:F1}x faster)");
    }

    private static (double Ttft, EngineFinished Finished) TimeToFirstToken(InferenceEngine engine, int[] prompt)
    {
        long t0 = Stopwatch.GetTimestamp();
        var r = RunStreams(engine, [prompt], 1)[0];
        return (Stopwatch.GetElapsedTime(t0, r.Stamps[0]).TotalSeconds, r.Finished);
    }

    /// <summary>Submits all prompts at once and reads every stream, stamping each token as it arrives.</summary>
    private static StreamResult[] RunStreams(InferenceEngine engine, int[][] prompts, int maxTokens)
    {
        var streams = prompts.Select(p => engine.Submit(new EngineRequest { PromptTokens = p, MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy })).ToArray();
        var results = streams.Select(s => Task.Run(async () =>
        {
            var stamps = new List<long>();
            await foreach (var e in s.ReadAllAsync())
            {
                if (e is EngineToken) stamps.Add(Stopwatch.GetTimestamp());
                else if (e is EngineFinished f)
                {
                    if (stamps.Count == 0) throw new InvalidOperationException($"stream {s.Id} ended ({f.Reason}) without a token");
                    return new StreamResult(stamps, f);
                }
            }
            throw new InvalidOperationException($"stream {s.Id} ended without a finish event");
        })).ToArray();
        Task.WaitAll(results);
        return results.Select(t => t.Result).ToArray();
    }

    /// <summary>A short prompt of exactly <see cref="ShortPrompt"/> tokens, different for each index.</summary>
    private static int[] Prompt(Tokenizer tokenizer, int index)
    {
        var ids = tokenizer.Encode($"Request {index}: write a short note about the weather in a town by the sea, then stop. ", addSpecial: true);
        return Cut(ids, ShortPrompt, tokenizer);
    }

    /// <summary>The system text repeated and cut to exactly <paramref name="tokens"/> tokens (BOS first if the model adds one).</summary>
    private static int[] SystemPrompt(Tokenizer tokenizer, int tokens)
    {
        var text = SystemText;
        int[] ids;
        while ((ids = tokenizer.Encode(text, addSpecial: true)).Length < tokens) text += SystemText;
        return ids[..tokens];
    }

    private static int[] Cut(int[] ids, int length, Tokenizer tokenizer)
    {
        if (ids.Length >= length) return ids[..length];
        var padded = new int[length];
        ids.CopyTo(padded, 0);
        int filler = tokenizer.Encode(" sea", addSpecial: false)[0];
        for (int i = ids.Length; i < length; i++) padded[i] = filler;
        return padded;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
