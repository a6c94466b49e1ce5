using System.Diagnostics;
using Frugal.Inference.Benchmarking;
using Frugal.Models;
using Frugal.Numerics.Attention;
using Frugal.Numerics.Threading;

namespace Frugal.Bench;

/// <summary>
/// llama.cpp (LLamaSharp 0.30.0) and Frugal on the same GGUF file in one process, alternating rounds so that the noise
/// of a shared machine hits both: each round is, after <c>Depth</c> tokens evaluated untimed, a prefill of p random
/// tokens in one batch then n single-token decode steps, the same token ids for both engines. One untimed warm-up
/// round each, then the medians of the timed rounds and the ratio Frugal / llama.cpp (above 1 = Frugal faster). All
/// engines store K and V in <c>CacheTypes</c> (f16 by default, llama.cpp's own default). With
/// <c>NodeDirectory</c>, node-llama-cpp's prebuilt llama.cpp runs the same protocol afterwards in a child process
/// (<see cref="NodeLlamaCpp"/>; its own random ids) and gets a third column and ratio.
/// </summary>
internal static class SideBySide
{
    public sealed record Options(IReadOnlyList<string> Files, int Prompt, int Decode, int Threads, int Rounds, int Seed,
        int Depth = 0, string? NodeDirectory = null, KvCacheTypes CacheTypes = default);

    private sealed record FileResult(string File, ThroughputResult LlamaCpp, ThroughputResult Frugal, NodeLlamaCppResult? Node)
    {
        public double PrefillRatio => Frugal.PrefillTokensPerSecond / LlamaCpp.PrefillTokensPerSecond;
        public double DecodeRatio => Frugal.DecodeTokensPerSecond / LlamaCpp.DecodeTokensPerSecond;
        public double? NodePrefillRatio => Node is null ? null : Frugal.PrefillTokensPerSecond / Node.PrefillTokensPerSecond;
        public double? NodeDecodeRatio => Node is null ? null : Frugal.DecodeTokensPerSecond / Node.DecodeTokensPerSecond;
    }

    public static void Run(Options o)
    {
        LlamaCppNative.EnsureLoaded();
        ComputeTeam.ConfigureDefault(o.Threads);
        Console.WriteLine($"side by side: -p {o.Prompt} -n {o.Decode} -d {o.Depth} -t {o.Threads}, KV {o.CacheTypes}, median of {o.Rounds} alternating rounds" +
                          $"{(o.NodeDirectory is null ? "" : $", then node-llama-cpp ({o.NodeDirectory})")}; load average {LoadAverage()}");
        var results = new List<FileResult>();
        foreach (string file in o.Files)
        {
            Console.WriteLine();
            Console.WriteLine(Path.GetFileName(file));
            var (cpp, fru) = InProcess(file, o);
            NodeLlamaCppResult? node = null;
            if (o.NodeDirectory is { } dir)
            {
                node = NodeLlamaCpp.Run(dir, file, o.Prompt, o.Decode, o.Threads, o.Rounds, o.Depth, o.CacheTypes);
                Console.WriteLine($"  node-llama-cpp: load {node.LoadSeconds:F2} s (flash attention {node.FlashAttention}, KV {node.TypeK}/{node.TypeV}; {node.Setup})");
                Console.WriteLine("  node-llama-cpp rounds: pp " +
                                  $"{string.Join(", ", node.PrefillRounds.Select(v => v.ToString("F1")))} tg {string.Join(", ", node.DecodeRounds.Select(v => v.ToString("F1")))} tok/s");
            }
            var result = new FileResult(Path.GetFileName(file), new ThroughputResult(o.Prompt, o.Decode, cpp) { DepthTokens = o.Depth },
                new ThroughputResult(o.Prompt, o.Decode, fru) { DepthTokens = o.Depth }, node);
            results.Add(result);
            Console.WriteLine($"  median: llama.cpp pp {result.LlamaCpp.PrefillTokensPerSecond:F1} tg {result.LlamaCpp.DecodeTokensPerSecond:F1} | " +
                              $"frugal pp {result.Frugal.PrefillTokensPerSecond:F1} tg {result.Frugal.DecodeTokensPerSecond:F1} | " +
                              $"ratio pp {result.PrefillRatio:F2}x tg {result.DecodeRatio:F2}x" +
                              (node is null ? "" : $" | node-llama-cpp pp {node.PrefillTokensPerSecond:F1} tg {node.DecodeTokensPerSecond:F1} | " +
                                                   $"ratio pp {result.NodePrefillRatio:F2}x tg {result.NodeDecodeRatio:F2}x"));
        }
        Console.WriteLine();
        PrintTable(o, results);
        Console.WriteLine($"load average at the end: {LoadAverage()}");
    }

    /// <summary>LLamaSharp and Frugal on one file, alternating rounds; both models are released before returning.</summary>
    private static (List<RoundTiming> LlamaCpp, List<RoundTiming> Frugal) InProcess(string file, Options o)
    {
        long t0 = Stopwatch.GetTimestamp();
        using var model = ModelLoader.Load(file);
        double frugalLoad = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var frugal = new PrefillDecodeRound(model, o.Prompt, o.Decode, o.Seed, o.Depth, o.CacheTypes);
        t0 = Stopwatch.GetTimestamp();
        using var llama = new LlamaCppRound(file, frugal.Depth.ToArray(), frugal.Prompt.ToArray(), frugal.DecodeInputs.ToArray(), o.Threads, o.CacheTypes);
        double llamaLoad = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Console.WriteLine($"  load: llama.cpp {llamaLoad:F2} s ({llama.Settings}), frugal {frugalLoad:F2} s (weights repacked into kernel layouts: {model.KernelLayoutBytes / 1e6:F0} MB)");
        llama.Measure();  // warm-up: page in the mapped weights, JIT tiering
        frugal.Measure();
        var cpp = new List<RoundTiming>();
        var fru = new List<RoundTiming>();
        for (int r = 0; r < o.Rounds; r++)
        {
            // Alternate who goes first, so a slow patch of the machine does not always fall on the same engine.
            if (r % 2 == 0) { cpp.Add(llama.Measure()); fru.Add(frugal.Measure()); }
            else { fru.Add(frugal.Measure()); cpp.Add(llama.Measure()); }
            Console.WriteLine($"  round {r + 1}: llama.cpp pp {o.Prompt / cpp[^1].Prefill.TotalSeconds,8:F1} tg {o.Decode / cpp[^1].Decode.TotalSeconds,6:F1} | " +
                              $"frugal pp {o.Prompt / fru[^1].Prefill.TotalSeconds,8:F1} tg {o.Decode / fru[^1].Decode.TotalSeconds,6:F1} tok/s");
        }
        return (cpp, fru);
    }

    private static void PrintTable(Options o, List<FileResult> results)
    {
        string pp = results.Count > 0 ? results[0].Frugal.PrefillTestName : $"pp{o.Prompt}";
        string tg = results.Count > 0 ? results[0].Frugal.DecodeTestName : $"tg{o.Decode}";
        bool node = o.NodeDirectory is not null;
        Console.WriteLine($"| file | llama.cpp {pp} t/s | frugal {pp} t/s | pp frugal/llama.cpp |{(node ? $" node-llama-cpp {pp} t/s | pp frugal/node-llama-cpp |" : "")}" +
                          $" llama.cpp {tg} t/s | frugal {tg} t/s | tg frugal/llama.cpp |{(node ? $" node-llama-cpp {tg} t/s | tg frugal/node-llama-cpp |" : "")}");
        Console.WriteLine($"|---|---:|---:|---:|{(node ? "---:|---:|" : "")}---:|---:|---:|{(node ? "---:|---:|" : "")}");
        foreach (var r in results)
            Console.WriteLine($"| {r.File} | {r.LlamaCpp.PrefillTokensPerSecond:F1} | {r.Frugal.PrefillTokensPerSecond:F1} | {r.PrefillRatio:F2}x |" +
                              (r.Node is { } n1 ? $" {n1.PrefillTokensPerSecond:F1} | {r.NodePrefillRatio:F2}x |" : "") +
                              $" {r.LlamaCpp.DecodeTokensPerSecond:F1} | {r.Frugal.DecodeTokensPerSecond:F1} | {r.DecodeRatio:F2}x |" +
                              (r.Node is { } n2 ? $" {n2.DecodeTokensPerSecond:F1} | {r.NodeDecodeRatio:F2}x |" : ""));
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), the context any absolute figure needs on a shared machine.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
