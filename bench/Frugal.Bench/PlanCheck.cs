using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Frugal.Bench;

/// <summary>
/// <c>Frugal.Bench plan-check</c>: for each configuration (file, KV type, optional --mem-budget) runs
/// <c>frugal plan --json</c> and then <c>frugal bench --json</c> with the same settings, each in its own process (peak
/// RSS is per process), and prints predicted against measured peak RSS, prefill and decode tokens/s with their
/// ratios and whether each is within the issue's bounds (RSS 10%, speeds 25%). Configurations with a budget need a
/// <c>bench --mem-budget</c>; where the CLI has none they are reported as skipped, not failed.
/// </summary>
internal static class PlanCheck
{
    private static readonly string[] DefaultConfigs =
    [
        "llama-3.2-1b-shape-q8_0:f16",
        "llama-3.2-1b-shape-q8_0:q8_0",
        "llama-3.2-1b-shape-q4_0:f16",
        "llama-3.2-1b-shape-q4_0:kivi2",
        "llama-3.2-1b-shape-q8_0:f16:700M",
        "llama-3.2-1b-shape-q4_0:q8_0:400M",
    ];

    private sealed record Config(string File, string Kv, string? Budget)
    {
        public string Name => $"{Path.GetFileNameWithoutExtension(File)} kv {Kv}{(Budget is null ? "" : $" budget {Budget}")}";

        public static Config Parse(string text, string dir)
        {
            var parts = text.Split(':');
            if (parts.Length is < 2 or > 3) throw new ArgumentException($"'{text}': expected FILE:KV or FILE:KV:BUDGET");
            string file = System.IO.File.Exists(parts[0]) ? parts[0] : Path.Combine(dir, parts[0].EndsWith(".gguf", StringComparison.Ordinal) ? parts[0] : parts[0] + ".gguf");
            return new Config(file, parts[1], parts.Length == 3 ? parts[2] : null);
        }
    }

    /// <summary>Usage: plan-check [--cli DLL] [--dir DIR] [-p 128] [-n 32] [-r 3] [-t 2] [CONFIG...] (CONFIG = FILE:KV[:BUDGET]).</summary>
    public static int Run(string[] args)
    {
        string cli = "src/Frugal.Cli/bin/Release/net10.0/Frugal.Cli.dll", dir = BenchFiles.DefaultDirectory;
        int p = 128, n = 32, reps = 3, threads = 2;
        var configs = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--cli": cli = Next(); break;
                case "--dir": dir = Next(); break;
                case "-p": p = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-n": n = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-r": reps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-t": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: configs.Add(args[i]); break;
            }
        }
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"error: no Frugal CLI at '{cli}': build src/Frugal.Cli -c Release or pass --cli DLL");
            return 2;
        }
        var list = (configs.Count > 0 ? configs : DefaultConfigs.ToList()).Select(c => Config.Parse(c, dir)).ToList();
        Console.WriteLine($"plan-check: -p {p} -n {n} -r {reps} -t {threads} | load before: {Load()}");
        var rows = new List<string>();
        foreach (var c in list)
        {
            if (!File.Exists(c.File))
            {
                rows.Add($"| {c.Name} | missing file {c.File} (Frugal.Bench make-files) |");
                continue;
            }
            string[] common = ["-p", $"{p}", "-t", $"{threads}", "-ctk", c.Kv, "-ctv", c.Kv, .. (c.Budget is null ? Array.Empty<string>() : ["--mem-budget", c.Budget])];
            var (planCode, planOut, planErr) = RunCli(cli, ["plan", c.File, "--ctx", $"{p + n}", .. common, "--json"]);
            if (planCode != 0)
            {
                rows.Add($"| {c.Name} | plan failed: {planErr.Trim()} |");
                continue;
            }
            var (benchCode, benchOut, benchErr) = RunCli(cli, ["bench", c.File, "-n", $"{n}", "-r", $"{reps}", .. common, "--json"]);
            if (benchCode != 0)
            {
                string why = benchErr.Contains("--mem-budget", StringComparison.Ordinal) ? "skipped: this CLI's bench has no --mem-budget" : $"bench failed: {benchErr.Trim()}";
                rows.Add($"| {c.Name} | {why} |");
                continue;
            }
            using var plan = JsonDocument.Parse(planOut);
            using var bench = JsonDocument.Parse(benchOut);
            rows.Add(Row(c, plan.RootElement, bench.RootElement));
            Console.WriteLine($"  {c.Name}: plan {planOut.Trim()}");
            Console.WriteLine($"  {c.Name}: bench {benchOut.Trim()}");
        }
        Console.WriteLine($"load after: {Load()}");
        Console.WriteLine();
        Console.WriteLine("| configuration | peak RSS MB plan / bench | prefill tok/s plan / bench median / bench fastest round | decode tok/s plan / median / fastest | limited by (prefill, decode) | read GB/s plan / bench | within: RSS 10% / prefill 25% (median, fastest) / decode 25% (median, fastest) |");
        Console.WriteLine("|---|---:|---:|---:|---|---:|---|");
        foreach (var r in rows) Console.WriteLine(r);
        return 0;
    }

    private static string Row(Config c, JsonElement plan, JsonElement bench)
    {
        double Get(JsonElement e, string name) => e.GetProperty(name).ValueKind == JsonValueKind.Number ? e.GetProperty(name).GetDouble() : double.NaN;
        double Fastest(string rounds, double tokens) => tokens / (bench.GetProperty(rounds).EnumerateArray().Min(r => r.GetDouble()) / 1000);
        double rssP = Get(plan, "peak_rss_mb"), rssB = Get(bench, "peak_rss_mb");
        double ppP = Get(plan, "prefill_tok_s"), ppB = Get(bench, "prefill_tok_s"), ppBest = Fastest("prefill_ms", Get(bench, "p"));
        double tgP = Get(plan, "decode_tok_s"), tgB = Get(bench, "decode_tok_s"), tgBest = Fastest("decode_ms", Get(bench, "n"));
        static string Pair(double a, double b) => string.Create(CultureInfo.InvariantCulture, $"{a:F1} / {b:F1} ({a / b:F2}x)");
        static string Three(double a, double median, double best) =>
            string.Create(CultureInfo.InvariantCulture, $"{a:F1} / {median:F1} / {best:F1} ({a / median:F2}x, {a / best:F2}x)");
        static string Ok(double a, double b, double bound) => Math.Abs(a / b - 1) <= bound ? "yes" : "NO";
        string read = string.Create(CultureInfo.InvariantCulture, $"{Get(plan.GetProperty("machine"), "read_gb_s"):F1} / {Get(bench, "read_gb_s"):F1}");
        return $"| {c.Name} | {Pair(rssP, rssB)} | {Three(ppP, ppB, ppBest)} | {Three(tgP, tgB, tgBest)} | {plan.GetProperty("prefill_limited_by").GetString()}, {plan.GetProperty("decode_limited_by").GetString()} | {read} | "
            + $"{Ok(rssP, rssB, 0.10)} / {Ok(ppP, ppB, 0.25)}, {Ok(ppP, ppBest, 0.25)} / {Ok(tgP, tgB, 0.25)}, {Ok(tgP, tgBest, 0.25)} |";
    }

    private static (int Code, string Out, string Err) RunCli(string dll, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
