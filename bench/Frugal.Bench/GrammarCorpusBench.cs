using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Frugal.Inference.Constraints;

namespace Frugal.Bench;

/// <summary>
/// Mask time over the JSON Schema corpus (tests/Frugal.Tests/Fixtures/json-schemas): each schema that compiles is
/// timed compiling (after one untimed compile of the first schema for the JIT), then seeded random documents of its
/// grammar (<see cref="GrammarSampler"/>) are tokenized greedily as in <see cref="GrammarMaskBench"/> and every step's
/// mask is timed, one thread. "cold": each document compiles the schema anew, as a server does per request, so its
/// masks start uncomputed; "warm": the documents of a schema share one compiled grammar (and its cached masks).
/// </summary>
internal static class GrammarCorpusBench
{
    public static void Run(TokenTrie trie, string directory, int docsPerSchema)
    {
        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToList();
        var compileMs = new List<double>();
        var compileCpuMs = new List<double>();
        var cold = new List<double>();
        var warm = new List<double>();
        var coldCpu = new List<double>();
        var warmCpu = new List<double>();
        int supported = 0, documents = 0;
        bool jitted = false;
        var clock = new Stopwatch();
        foreach (string file in files)
        {
            var schema = JsonDocument.Parse(File.ReadAllBytes(file)).RootElement;
            GbnfGrammar grammar;
            try
            {
                if (!jitted) { JsonSchemaGrammar.Compile(schema); jitted = true; }
                double c0 = ThreadCpuClock.NowMicroseconds();
                clock.Restart();
                grammar = JsonSchemaGrammar.Compile(schema);
                compileMs.Add(clock.Elapsed.TotalMilliseconds);
                compileCpuMs.Add((ThreadCpuClock.NowMicroseconds() - c0) / 1000);
            }
            catch (JsonSchemaException)
            {
                continue;
            }
            supported++;
            var sampler = new GrammarSampler(grammar);
            var rng = new Random(Path.GetFileName(file).Length);
            for (int d = 0; d < docsPerSchema; d++)
            {
                string doc = sampler.Sample(rng, budget: 200);
                documents++;
                // Cold: a grammar compiled for this document alone.
                GrammarMaskBench.Steps(JsonSchemaGrammar.Compile(schema), trie, doc, cold, file, cpuTimes: coldCpu);
                GrammarMaskBench.Steps(grammar, trie, doc, warm, file, cpuTimes: warmCpu);
            }
        }
        foreach (var list in new[] { cold, warm, coldCpu, warmCpu, compileMs, compileCpuMs }) list.Sort();
        Console.WriteLine($"corpus {Path.GetFileName(directory)}: {supported} of {files.Count} schemas compile ({100.0 * supported / files.Count:F1}%), {documents} documents, {docsPerSchema} per schema");
        Console.WriteLine("| masks | steps | avg us | p50 us | p99 us | max us | compile median ms | compile p90 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        var rows = new List<(string, List<double>, List<double>)> { ("cold (compile per document), wall", cold, compileMs), ("warm (grammar reused), wall", warm, compileMs) };
        if (ThreadCpuClock.Available) rows.AddRange([("cold, thread CPU time", coldCpu, compileCpuMs), ("warm, thread CPU time", warmCpu, compileCpuMs)]);
        foreach (var (name, times, compile) in rows)
            Console.WriteLine($"| {name} | {times.Count:N0} | {times.Average():F1} | {Pct(times, 0.5):F1} | {Pct(times, 0.99):F1} | {times[^1]:F0} | {Pct(compile, 0.5):F2} | {Pct(compile, 0.9):F2} |");
        // Where the average comes from: each band of step times' share of the steps and its part of the average.
        Console.WriteLine("| masks | <10 us | 10-100 us | 0.1-1 ms | 1-10 ms | >10 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, times, _) in rows)
        {
            double[] bounds = [10, 100, 1000, 10000, double.MaxValue];
            var cells = bounds.Select((hi, b) =>
            {
                double lo = b == 0 ? double.MinValue : bounds[b - 1];
                var band = times.Where(t => t >= lo && t < hi).ToList();
                return $"{100.0 * band.Count / times.Count:F1}%: {band.Sum() / times.Count:F1} us";
            });
            Console.WriteLine($"| {name} | {string.Join(" | ", cells)} |");
        }
    }

    private static double Pct(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];

    public static string? FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Frugal.Tests", "Fixtures", "json-schemas");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
