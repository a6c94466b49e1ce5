using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Frugal.Bench;

/// <summary>
/// <c>Frugal.Bench soak</c>: <c>frugal serve</c> in its own process under N concurrent clients for a fixed time, each
/// looping over a mix of streamed and non-streamed chat completions (plain, <c>response_format</c> json_schema, tools
/// with tool_choice auto and required) and completions, with a share of clients that disconnect mid-stream. At the end:
/// the status codes (5xx must be zero), JSON-schema answers that do not parse, the KV blocks still in use once idle
/// (must be zero: a disconnect leaks none), and the server's RSS sampled every 5 s (after the first minute it must stay
/// within 5% of its value at one minute).
/// </summary>
internal static class SoakBench
{
    private const string Schema = """{"type":"object","properties":{"city":{"type":"string","maxLength":24},"days":{"enum":[1,2,3,7,14]},"units":{"enum":["metric","imperial"]}},"required":["city","days"],"additionalProperties":false}""";
    private const string Tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string","maxLength":24},"unit":{"enum":["c","f"]}},"required":["city"]}}}]""";

    private sealed class Tally
    {
        public readonly Dictionary<string, int> Codes = new();
        public readonly Dictionary<string, int> Refusals = new(); // "status kind: message" of each non-2xx answer
        public int Requests, Disconnects, TransportErrors, BadJson, ToolCalls;
        public long Tokens;

        public void Count(string key) { lock (this) Codes[key] = Codes.GetValueOrDefault(key) + 1; }

        public void Refuse(string reason) { lock (this) Refusals[reason] = Refusals.GetValueOrDefault(reason) + 1; }
    }

    /// <summary>
    /// The default model: the tiny random-weight llama of the tests with Qwen3's real chat template, which renders tools
    /// (the built-in model's template does not, so tool requests would all be refused).
    /// </summary>
    private static string ToolModel()
    {
        string path = Path.Combine(Path.GetTempPath(), "frugal-soak-qwen3-template.gguf");
        string template = File.ReadAllText(Path.Combine("tests", "Frugal.Tests", "Fixtures", "chat", "templates", "qwen3.jinja"));
        var spec = Frugal.Models.Synthetic.SyntheticModelSpec.Tiny(Frugal.Models.Synthetic.SyntheticFamily.Llama3, seed: 77) with { ContextLength = 8192 };
        Frugal.Models.Synthetic.SyntheticModelWriter.Build(spec).Add("tokenizer.chat_template", template).WriteTo(path);
        return path;
    }

    /// <summary>Kinds (--kinds): 0 plain chat, 1 json_schema chat, 2 tools auto, 3 tools required, 4 completions.
    /// Usage: soak [MODEL=tiny random llama with Qwen3's template] [--kinds 0,1,2,3,4] [--clients 32] [--minutes 10] [--parallel 8] [--ctx 2048] [--max-tokens 48] [-t 2] [--cli DLL].</summary>
    public static int Run(string[] args)
    {
        string? model = null, cli = "src/Frugal.Cli/bin/Release/net10.0/Frugal.Cli.dll";
        int clients = 32, parallel = 8, ctx = 2048, maxTokens = 48, threads = 2;
        int[] kinds = [0, 1, 2, 3, 4];
        double minutes = 10;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--clients": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--minutes": minutes = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--parallel": parallel = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--ctx": ctx = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--max-tokens": maxTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-t": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--cli": cli = Next(); break;
                case "--kinds": kinds = Next().Split(',').Select(k => int.Parse(k, CultureInfo.InvariantCulture)).ToArray(); break;
                default: model = args[i]; break;
            }
        }
        if (!File.Exists(cli))
        {
            Console.Error.WriteLine($"error: no Frugal CLI at '{cli}': build src/Frugal.Cli -c Release or pass --cli DLL");
            return 2;
        }
        model ??= ToolModel();
        return RunAsync(model, cli, clients, TimeSpan.FromMinutes(minutes), parallel, ctx, maxTokens, kinds, threads).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string model, string cli, int clients, TimeSpan duration, int parallel, int ctx, int maxTokens, int[] kinds, int threads)
    {
        int port = FreePort();
        string arguments = $"{cli} serve \"{model}\" --port {port} --parallel {parallel} --ctx {ctx} --queue 256 -t {threads}";
        Console.WriteLine($"soak: {clients} clients for {duration.TotalMinutes:F1} min against dotnet {arguments}; load average {Load()}");
        var info = new ProcessStartInfo("dotnet", arguments) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var server = Process.Start(info) ?? throw new InvalidOperationException("could not start frugal serve");
        var serverLog = new StringBuilder();
        server.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (serverLog) serverLog.AppendLine(l); };
        server.OutputDataReceived += (_, e) => { };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 })
            { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
            await WaitReady(http, server, serverLog);
            // /health answers 503 while the model loads (the readiness convention): those come before the first
            // request and are not the soak's; only the 5xx counted from here on are.
            double fiveXxBefore = Metric(await http.GetStringAsync("metrics"), "frugal_http_responses_total{code=\"5");
            string id = JsonDocument.Parse(await http.GetStringAsync("v1/models")).RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;

            var tally = new Tally();
            var rss = new List<(double Seconds, long Bytes)>();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource(duration);
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    lock (rss) rss.Add((clock.Elapsed.TotalSeconds, Rss(server.Id)));
                    try { await Task.Delay(5000, stop.Token); } catch (OperationCanceledException) { }
                }
            });
            var workers = Enumerable.Range(0, clients).Select(c => Task.Run(() => Client(http, id, c, maxTokens, kinds, tally, stop.Token))).ToArray();
            await Task.WhenAll(workers);
            await sampler;
            double seconds = clock.Elapsed.TotalSeconds;

            // Idle: every sequence ended (disconnected ones too) must have given its blocks back.
            double used = -1, running = -1, serverFiveXx = 0;
            for (int i = 0; i < 60; i++)
            {
                string metrics = await http.GetStringAsync("metrics");
                used = Metric(metrics, "frugal_kv_blocks_used");
                running = Metric(metrics, "frugal_running_sequences");
                serverFiveXx = Metric(metrics, "frugal_http_responses_total{code=\"5") - fiveXxBefore;
                if (used == 0 && running <= 0) break;
                await Task.Delay(500);
            }
            long rssEnd = Rss(server.Id);
            lock (rss) rss.Add((clock.Elapsed.TotalSeconds, rssEnd));

            int fiveXx = tally.Codes.Where(kv => kv.Key.StartsWith('5')).Sum(kv => kv.Value);
            // Flat: the median RSS of the last minute against that of the second minute (the GC's sawtooth makes single
            // samples swing by tens of MB either way).
            var afterMinute = rss.Where(r => r.Seconds >= 60).ToList();
            double Median(IEnumerable<long> xs) { var v = xs.OrderBy(x => x).ToList(); return v.Count == 0 ? double.NaN : v[v.Count / 2]; }
            double second = Median(rss.Where(r => r.Seconds >= 60 && r.Seconds < 120).Select(r => r.Bytes));
            double last = Median(rss.Where(r => r.Seconds >= seconds - 60).Select(r => r.Bytes));
            // "Flat" judged by the trend, not by two minutes' medians: a GC heap of ~150 MB swings by more than 5%
            // between collections, so two medians read +5% or -6% on runs whose end (idle) RSS is below minute 2's.
            // A leak is a steady rise: the least-squares line over the samples after the first minute, its rise from
            // minute 1 to the end relative to its value at minute 1.
            double drift = Trend(afterMinute, 60, seconds);
            double medianDrift = (last - second) / second;
            Console.WriteLine();
            Console.WriteLine("| figure | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| duration | {seconds:F0} s |");
            Console.WriteLine($"| requests | {tally.Requests} ({tally.Requests / seconds:F1}/s) |");
            Console.WriteLine($"| status codes | {string.Join(", ", tally.Codes.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"))} |");
            Console.WriteLine($"| 5xx (clients saw / server counted) | {fiveXx} / {serverFiveXx} (+ {fiveXxBefore} health probes while loading) |");
            Console.WriteLine($"| client disconnects mid-stream | {tally.Disconnects} |");
            Console.WriteLine($"| transport errors (not a disconnect we made) | {tally.TransportErrors} |");
            Console.WriteLine($"| json_schema answers that do not parse | {tally.BadJson} |");
            Console.WriteLine($"| tool calls returned | {tally.ToolCalls} |");
            Console.WriteLine($"| completion tokens | {tally.Tokens} ({tally.Tokens / seconds:F1}/s) |");
            Console.WriteLine($"| KV blocks in use when idle | {used} |");
            Console.WriteLine($"| RSS median of minute 2 / of the last minute / max after minute 1 / end | {second / 1e6:F0} / {last / 1e6:F0} / {Mb(afterMinute.Count > 0 ? afterMinute.Max(r => r.Bytes) : 0)} / {Mb(rssEnd)} MB |");
            Console.WriteLine($"| RSS growth after the first minute: fitted trend (medians of minute 2 and the last) | {drift:P1} ({medianDrift:P1}) |");
            Console.WriteLine($"| RSS per minute (median, MB) | {string.Join(" ", Enumerable.Range(0, (int)Math.Ceiling(seconds / 60)).Select(m => Mb((long)Median(rss.Where(r => r.Seconds >= m * 60 && r.Seconds < m * 60 + 60).Select(r => r.Bytes).DefaultIfEmpty(0)))))} |");
            // The server's own lines for 5xx answers (a client may have gone before it could see the status).
            lock (serverLog)
                foreach (string line in serverLog.ToString().Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @" 5\d\d \d") || l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("exception", StringComparison.OrdinalIgnoreCase)).Take(20))
                    Console.WriteLine($"  server: {line}");
            foreach (var (reason, count) in tally.Refusals.OrderByDescending(kv => kv.Value))
                Console.WriteLine($"  refused x{count}: {reason}");
            Console.WriteLine($"load average at the end: {Load()}");
            bool ok = fiveXx == 0 && serverFiveXx == 0 && tally.TransportErrors == 0 && used == 0 && tally.BadJson == 0 && !(drift > 0.05);
            Console.WriteLine(ok ? "soak: ok" : "soak: FAILED");
            return ok ? 0 : 1;
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            server.WaitForExit(10000);
        }
    }

    private static async Task Client(HttpClient http, string model, int client, int maxTokens, int[] kinds, Tally tally, CancellationToken stop)
    {
        var rng = new Random(1000 + client);
        bool disconnects = client % 4 == 3; // a quarter of the clients hang up part-way through their streams
        while (!stop.IsCancellationRequested)
        {
            int kind = kinds[rng.Next(kinds.Length)];
            bool stream = kind != 4 && rng.Next(2) == 0;
            string user = $"Tell me about city number {rng.Next(1000)} and the weather there, briefly.";
            string body = kind switch
            {
                0 => Chat(model, user, maxTokens, stream, ""),
                1 => Chat(model, user, maxTokens, stream, $",\"response_format\":{{\"type\":\"json_schema\",\"json_schema\":{{\"name\":\"trip\",\"strict\":true,\"schema\":{Schema}}}}}"),
                // A forced call from the byte-level tiny vocabulary is ~100 tokens: room for it to finish.
                2 => Chat(model, user, Math.Max(maxTokens, 200), stream, $",\"tools\":{Tools},\"tool_choice\":\"auto\""),
                3 => Chat(model, user, Math.Max(maxTokens, 200), stream, $",\"tools\":{Tools},\"tool_choice\":\"required\""),
                _ => $"{{\"model\":\"{model}\",\"prompt\":\"Once upon a time\",\"max_tokens\":{maxTokens},\"temperature\":0.8,\"seed\":{rng.Next()}}}",
            };
            string path = kind == 4 ? "v1/completions" : "v1/chat/completions";
            Interlocked.Increment(ref tally.Requests);
            using var cut = CancellationTokenSource.CreateLinkedTokenSource(stop);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
                tally.Count(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture));
                if (!response.IsSuccessStatusCode)
                {
                    string error = await response.Content.ReadAsStringAsync();
                    tally.Refuse($"{(int)response.StatusCode} kind {kind}: {Message(error)}");
                    continue;
                }
                if (!stream)
                {
                    using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    var choice = doc.RootElement.GetProperty("choices")[0];
                    if (doc.RootElement.TryGetProperty("usage", out var usage)) Interlocked.Add(ref tally.Tokens, usage.GetProperty("completion_tokens").GetInt64());
                    if (kind == 1 && choice.GetProperty("finish_reason").GetString() == "stop" && !Parses(choice.GetProperty("message").GetProperty("content").GetString()))
                    {
                        Interlocked.Increment(ref tally.BadJson);
                        Console.Error.WriteLine($"  client {client}: json_schema answer that does not parse: {choice.GetRawText()}");
                    }
                    if (choice.TryGetProperty("message", out var m) && m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                        Interlocked.Add(ref tally.ToolCalls, calls.GetArrayLength());
                    continue;
                }
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(CancellationToken.None));
                int hangUpAfter = disconnects ? rng.Next(1, 8) : int.MaxValue, events = 0;
                string? line;
                while ((line = await reader.ReadLineAsync(CancellationToken.None)) is not null)
                {
                    if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                    if (line == "data: [DONE]") break;
                    if (line.Contains("\"tool_calls\"", StringComparison.Ordinal)) Interlocked.Increment(ref tally.ToolCalls);
                    Interlocked.Increment(ref tally.Tokens);
                    if (++events >= hangUpAfter)
                    {
                        Interlocked.Increment(ref tally.Disconnects);
                        break; // disposing the response closes the connection mid-stream
                    }
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or TaskCanceledException or KeyNotFoundException or InvalidOperationException)
            {
                if (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref tally.TransportErrors);
                    Console.Error.WriteLine($"  client {client}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    private static string Chat(string model, string user, int maxTokens, bool stream, string extra) =>
        $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"system\",\"content\":\"You are brief.\"}},{{\"role\":\"user\",\"content\":\"{user}\"}}]," +
        $"\"max_tokens\":{maxTokens},\"temperature\":0.7,\"stream\":{(stream ? "true" : "false")}{extra}}}";

    private static string Message(string error)
    {
        try
        {
            using var doc = JsonDocument.Parse(error);
            string m = doc.RootElement.GetProperty("error").GetProperty("message").GetString() ?? "";
            return m.Length > 90 ? m[..90] + "..." : m;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "(no OpenAI error object) " + (error.Length > 60 ? error[..60] : error);
        }
    }

    private static bool Parses(string? text)
    {
        try { using var _ = JsonDocument.Parse(text ?? ""); return true; }
        catch (JsonException) { return false; }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task WaitReady(HttpClient http, Process server, StringBuilder log)
    {
        var until = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < until && !server.HasExited)
        {
            try
            {
                if ((await http.GetAsync("health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(300);
        }
        lock (log) throw new InvalidOperationException($"frugal serve did not become ready:\n{log}");
    }

    /// <summary>The sum of the samples whose line starts with <paramref name="name"/> then a space or a label (or with a label prefix given in the name).</summary>
    private static double Metric(string metrics, string name) =>
        metrics.Split('\n').Where(l => name.Contains('{') ? l.StartsWith(name, StringComparison.Ordinal) : l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>The least-squares line through (seconds, bytes): its rise from <paramref name="from"/> to <paramref name="to"/> over its value at <paramref name="from"/>.</summary>
    private static double Trend(IReadOnlyList<(double Seconds, long Bytes)> samples, double from, double to)
    {
        if (samples.Count < 2) return 0;
        double mx = samples.Average(r => r.Seconds), my = samples.Average(r => (double)r.Bytes);
        double sxx = samples.Sum(r => (r.Seconds - mx) * (r.Seconds - mx)), sxy = samples.Sum(r => (r.Seconds - mx) * (r.Bytes - my));
        double slope = sxx > 0 ? sxy / sxx : 0;
        double start = my + slope * (from - mx);
        return slope * (to - from) / start;
    }

    private static long Rss(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private static string Mb(long bytes) => (bytes / 1e6).ToString("F0", CultureInfo.InvariantCulture);

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
