using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Frugal.Numerics.Attention;

namespace Frugal.Bench;

/// <summary>What <c>bench/node-llama-cpp/bench.mjs</c> printed for one file: medians over its timed rounds.</summary>
internal sealed record NodeLlamaCppResult(double PrefillTokensPerSecond, double DecodeTokensPerSecond, double LoadSeconds,
    IReadOnlyList<double> PrefillRounds, IReadOnlyList<double> DecodeRounds, string FlashAttention, string TypeK, string TypeV,
    string Setup);

/// <summary>
/// The strongest stock llama.cpp reachable here — node-llama-cpp 3.22.1's prebuilt ggml CPU backend, which picks the
/// best x86 variant at load — timed by <c>node bench.mjs FILE P N T REPS DEPTH --type-k K --type-v V</c> in a child process, in a directory
/// where <c>npm install</c> ran for <c>bench/node-llama-cpp/package.json</c>. It cannot alternate rounds with the
/// in-process engines, so it runs on its own, after them, with its own warm-up round.
/// </summary>
internal static class NodeLlamaCpp
{
    /// <summary>Why <paramref name="directory"/> cannot run the script, or null when it can.</summary>
    public static string? Problem(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "bench.mjs")))
            return $"--node {directory}: no bench.mjs there (copy bench/node-llama-cpp/. into it)";
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "node-llama-cpp")))
            return $"--node {directory}: no node_modules/node-llama-cpp there (run npm install in it; see bench/README.md)";
        return null;
    }

    public static NodeLlamaCppResult Run(string directory, string file, int prompt, int decode, int threads, int reps, int depth,
        KvCacheTypes cacheTypes = default)
    {
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("bench.mjs");
        start.ArgumentList.Add(Path.GetFullPath(file));
        foreach (int v in new[] { prompt, decode, threads, reps, depth })
            start.ArgumentList.Add(v.ToString(CultureInfo.InvariantCulture));
        // The script's --type-k/--type-v take ggml's names (F16, Q8_0); a quantized V needs flash attention, which
        // "auto" (the script's default) enables on the CPU.
        start.ArgumentList.Add("--type-k");
        start.ArgumentList.Add(KvElementTypes.Name(cacheTypes.Keys).ToUpperInvariant());
        start.ArgumentList.Add("--type-v");
        start.ArgumentList.Add(KvElementTypes.Name(cacheTypes.Values).ToUpperInvariant());
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"node bench.mjs exited with {process.ExitCode}: {stderr.Result.Trim()}");
        string line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"node bench.mjs printed no JSON line: {stdout.Trim()} {stderr.Result.Trim()}");
        return Parse(line);
    }

    /// <summary>Reads the script's JSON line (<c>prefill_tok_s</c>, <c>decode_tok_s</c>, <c>pp</c>, <c>tg</c>, ...).</summary>
    public static NodeLlamaCppResult Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var j = doc.RootElement;
        static double[] Numbers(JsonElement a) => a.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        return new NodeLlamaCppResult(
            j.GetProperty("prefill_tok_s").GetDouble(), j.GetProperty("decode_tok_s").GetDouble(), j.GetProperty("load_s").GetDouble(),
            Numbers(j.GetProperty("pp")), Numbers(j.GetProperty("tg")),
            j.TryGetProperty("flash_attention", out var fa) ? fa.ToString() : "?",
            j.TryGetProperty("type_k", out var k) ? k.ToString() : "?",
            j.TryGetProperty("type_v", out var v) ? v.ToString() : "?",
            Setup(j));
    }

    /// <summary>What llama.cpp logged while loading: the CPU variant, attention and KV lines, tensors repacked per kernel.</summary>
    private static string Setup(JsonElement j)
    {
        var parts = new List<string>();
        if (j.TryGetProperty("llama_log", out var log))
            parts.AddRange(log.EnumerateArray().Select(l => l.GetString() ?? "").Select(l => l.Contains("/libggml-cpu", StringComparison.Ordinal) ? l[(l.LastIndexOf('/') + 1)..] : l));
        if (j.TryGetProperty("repacked_tensors", out var repacked))
            parts.AddRange(repacked.EnumerateObject().Select(p => $"{p.Value} tensors repacked by {p.Name}"));
        return string.Join("; ", parts);
    }
}
