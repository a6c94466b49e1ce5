using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Frugal.Numerics;
using Frugal.Models.Synthetic;

namespace Frugal.Bench;

/// <summary>
/// KV-aware routing vs round-robin on a two-node Frugal cluster (two <c>frugal serve --cluster</c> processes, one
/// compute thread each), every request sent to the first node's gateway. Workload: many tenants, each with its own
/// ~500-token system prompt, asking short questions in a seeded random order, a few at a time. Per policy: the
/// prefix-cache hit rate (prompt tokens served from cache / prompt tokens, summed over the silos' /metrics), time to
/// first token (send to first streamed event) p50/p90, and throughput. The KV pool of each node holds fewer tenants'
/// prompts than there are tenants (as a real pool holds fewer than a real tenant population): round-robin makes every
/// node cache every tenant, KV-aware routing splits the tenants between them.
/// </summary>
internal static class ClusterBench
{
    public sealed record Options(string Cli, int Tenants, int Requests, int Concurrency, int SystemTokens, int MaxTokens, int Parallel, int Context, int BasePort, string[] Policies);

    public static int Run(string[] args)
    {
        var o = new Options(Cli: "src/Frugal.Cli/bin/Release/net10.0/Frugal.Cli.dll", Tenants: 12, Requests: 120, Concurrency: 4, SystemTokens: 500,
            MaxTokens: 8, Parallel: 4, Context: 1024, BasePort: 27100, Policies: ["round-robin", "kv"]);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length) return Usage($"{args[i]} needs a value");
            string v = args[i + 1];
            o = args[i] switch
            {
                "--cli" => o with { Cli = v },
                "--tenants" => o with { Tenants = int.Parse(v, CultureInfo.InvariantCulture) },
                "--requests" => o with { Requests = int.Parse(v, CultureInfo.InvariantCulture) },
                "--concurrency" => o with { Concurrency = int.Parse(v, CultureInfo.InvariantCulture) },
                "--system-tokens" => o with { SystemTokens = int.Parse(v, CultureInfo.InvariantCulture) },
                "--parallel" => o with { Parallel = int.Parse(v, CultureInfo.InvariantCulture) },
                "--ctx" => o with { Context = int.Parse(v, CultureInfo.InvariantCulture) },
                "--port" => o with { BasePort = int.Parse(v, CultureInfo.InvariantCulture) },
                "--policies" => o with { Policies = v.Split(',') },
                _ => (Options?)null,
            } ?? o;
            if (o is null) return Usage($"unknown option {args[i]}");
        }
        if (!File.Exists(o.Cli)) return Usage($"no CLI at {o.Cli}: build src/Frugal.Cli -c Release first or pass --cli PATH");
        string model = ModelFile();
        Console.WriteLine($"cluster: 2 nodes x 1 thread, --parallel {o.Parallel} --ctx {o.Context} (KV pool {o.Parallel * o.Context / 16} blocks of 16 per node), " +
            $"{o.Tenants} tenants x {o.SystemTokens}-token system prompts, {o.Requests} requests, {o.Concurrency} at a time, max_tokens {o.MaxTokens}; model {Path.GetFileName(model)}");
        var results = new List<(string Policy, Result R)>();
        if (o.Policies.Length != 2 || !o.Policies.Contains("kv") || !o.Policies.Contains("round-robin"))
            return Usage("--policies takes kv and round-robin, in the order to run them");
        foreach (var policy in o.Policies)
        {
            Console.WriteLine($"[{policy}] load average before: {LoadAverage()}");
            var r = RunPolicy(o, model, policy).GetAwaiter().GetResult();
            results.Add((policy, r));
            Console.WriteLine($"[{policy}] load average after: {LoadAverage()}");
        }
        Console.WriteLine();
        Console.WriteLine("| routing | prefix-cache hit rate | TTFT p50 (ms) | TTFT p90 (ms) | requests/s | completion tok/s | errors |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (policy, r) in results)
            Console.WriteLine($"| {policy} | {r.HitRate:P1} | {r.P50:F0} | {r.P90:F0} | {r.RequestsPerSecond:F2} | {r.TokensPerSecond:F1} | {r.Errors} |");
        var rr = results.Single(r => r.Policy == "round-robin").R;
        var kv = results.Single(r => r.Policy == "kv").R;
        Console.WriteLine($"kv vs round-robin: p90 TTFT {rr.P90 / kv.P90:F2}x better, p50 {rr.P50 / kv.P50:F2}x, throughput {kv.RequestsPerSecond / rr.RequestsPerSecond:F2}x");
        return 0;
    }

    private static int Usage(string why)
    {
        Console.Error.WriteLine($"error: {why}\nusage: Frugal.Bench cluster [--cli PATH] [--tenants 12] [--requests 120] [--concurrency 4] [--system-tokens 500] [--parallel 4] [--ctx 1024] [--port 27100] [--policies round-robin,kv]");
        return 2;
    }

    private sealed record Result(double HitRate, double P50, double P90, double RequestsPerSecond, double TokensPerSecond, int Errors);

    /// <summary>
    /// A small random-weight Llama (width 384, 4 layers, Q8_0): big enough that a 500-token prefill costs a visible
    /// fraction of a second on one thread, small enough that a run of both policies takes a few minutes.
    /// </summary>
    private static string ModelFile()
    {
        string path = Path.Combine(BenchFiles.DefaultDirectory, "cluster-bench-d384-l4-q8_0.gguf");
        if (File.Exists(path)) return path;
        Directory.CreateDirectory(BenchFiles.DefaultDirectory);
        var spec = SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, GgmlType.Q8_0) with
        {
            EmbeddingLength = 384, BlockCount = 4, HeadCount = 6, HeadCountKv = 2, HeadDim = 64, FeedForwardLength = 1024, ContextLength = 2048,
        };
        SyntheticModelWriter.Write(spec, path + ".partial");
        File.Move(path + ".partial", path, overwrite: true);
        return path;
    }

    private static async Task<Result> RunPolicy(Options o, string model, string policy)
    {
        int siloPort = o.BasePort, http0 = o.BasePort + 2, http1 = o.BasePort + 3;
        string cluster = $"bench-{policy}-{Environment.ProcessId}";
        string common = $"serve {model} --cluster {cluster} -t 1 --parallel {o.Parallel} --ctx {o.Context} --queue 256 --routing {policy}";
        using var node0 = Start(o.Cli, $"{common} --silo-port {siloPort} --gateway-port {siloPort + 10} --port {http0}");
        await Task.Delay(3000);
        using var node1 = Start(o.Cli, $"{common} --silo-port {siloPort + 1} --gateway-port {siloPort + 11} --seed 127.0.0.1:{siloPort} --port {http1}");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http0}/"), Timeout = TimeSpan.FromMinutes(5) };
            using var other = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http1}/"), Timeout = TimeSpan.FromMinutes(5) };
            await WaitReady(http, other);
            var rng = new Random(20261202);
            var systems = Enumerable.Range(0, o.Tenants).Select(_ => Enumerable.Range(0, o.SystemTokens).Select(_ => rng.Next(3, 500)).ToArray()).ToArray();
            // Warm-up (untimed): JIT and page-in on both nodes, with prompts no tenant shares.
            foreach (var c in new[] { http, other })
                for (int i = 0; i < 2; i++)
                    await Send(c, Enumerable.Range(0, 40).Select(_ => rng.Next(3, 500)).ToArray(), o.MaxTokens);
            var before = await Counters(http);
            var order = Enumerable.Range(0, o.Requests).Select(i => (Tenant: rng.Next(o.Tenants), Question: i)).ToArray();
            var ttfts = new List<double>();
            int errors = 0, next = -1;
            long completionTokens = 0;
            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, o.Concurrency).Select(async _ =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < order.Length)
                {
                    var (tenant, q) = order[i];
                    int[] prompt = [.. systems[tenant], .. Enumerable.Range(0, 8).Select(k => 3 + (q * 17 + k * 29) % 497)];
                    var (ttft, tokens, ok) = await Send(http, prompt, o.MaxTokens);
                    lock (ttfts)
                    {
                        if (ok) ttfts.Add(ttft);
                        else errors++;
                        completionTokens += tokens;
                    }
                }
            }).ToArray();
            await Task.WhenAll(workers);
            double seconds = clock.Elapsed.TotalSeconds;
            var after = await Counters(http);
            ttfts.Sort();
            double hit = (after.HitTokens - before.HitTokens) / Math.Max(1, after.PromptTokens - before.PromptTokens);
            var r = new Result(hit, Percentile(ttfts, 0.5), Percentile(ttfts, 0.9), (o.Requests - errors) / seconds, completionTokens / seconds, errors);
            Console.WriteLine($"[{policy}] {o.Requests} requests in {seconds:F1} s; hit rate {r.HitRate:P1}, TTFT p50 {r.P50:F0} ms p90 {r.P90:F0} ms; routed {after.Routed}");
            return r;
        }
        finally
        {
            Stop(node1);
            Stop(node0);
        }
    }

    private static Process Start(string cli, string arguments)
    {
        var info = new ProcessStartInfo("dotnet", $"{cli} {arguments}") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var p = Process.Start(info) ?? throw new InvalidOperationException("could not start the CLI");
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } line && (line.Contains("error", StringComparison.OrdinalIgnoreCase) || line.Contains("fail", StringComparison.OrdinalIgnoreCase))) Console.Error.WriteLine($"  node: {line}"); };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    private static void Stop(Process p)
    {
        if (p.HasExited) return;
        p.Kill(entireProcessTree: true);
        p.WaitForExit(10000);
    }

    private static async Task WaitReady(HttpClient a, HttpClient b)
    {
        var until = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < until)
        {
            try
            {
                if ((await a.GetAsync("health")).IsSuccessStatusCode && (await b.GetAsync("health")).IsSuccessStatusCode
                    && (await Metric(a, "frugal_cluster_silos ")) == 2 && (await Metric(b, "frugal_cluster_silos ")) == 2)
                    return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(500);
        }
        throw new TimeoutException("the two nodes did not form a cluster within 3 minutes");
    }

    private static async Task<double> Metric(HttpClient c, string prefix)
    {
        string text = await c.GetStringAsync("metrics");
        return text.Split('\n').Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    private static async Task<(double HitTokens, double PromptTokens, string Routed)> Counters(HttpClient c)
    {
        string text = await c.GetStringAsync("metrics");
        double Sum(string name) => text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        string routed = string.Join(", ", text.Split('\n').Where(l => l.StartsWith("frugal_cluster_routed_total{", StringComparison.Ordinal)).Select(l => l[(l.LastIndexOf(' ') + 1)..]));
        return (Sum("frugal_cluster_prefix_cache_hit_tokens_total"), Sum("frugal_cluster_prompt_tokens_total"), routed);
    }

    /// <summary>One streamed request: ms to its first event, completion tokens, and whether it ended with [DONE].</summary>
    private static async Task<(double TtftMs, int Tokens, bool Ok)> Send(HttpClient c, int[] prompt, int maxTokens)
    {
        string body = JsonSerializer.Serialize(new { prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } });
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await c.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) return (0, 0, false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double ttft = -1;
        int tokens = 0;
        bool done = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            if (ttft < 0) ttft = clock.Elapsed.TotalMilliseconds;
            if (line == "data: [DONE]") { done = true; break; }
            using var doc = JsonDocument.Parse(line[6..]);
            if (doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
                tokens = u.GetProperty("completion_tokens").GetInt32();
        }
        return (ttft, tokens, done);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
